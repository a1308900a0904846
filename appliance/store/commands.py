"""Handlers for ``appliance db check``, ``db migrate`` and ``journal verify``.

JSON on stdout; exit 0 when clean, 1 when problems were found, 2 when the command could not run
(no database, not migrated) with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from appliance import paths
from appliance.store import watermark
from appliance.store.check import Problem, check_database
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.journal import JournalKind, append, verify
from appliance.store.migrate import MigrationError, current_revision, upgrade_to_head
from appliance.store.models import ReceiptCounter

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _emit(document: dict[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def _fail(command: str, reason: str) -> int:
    print(f"{command}: {reason}", file=sys.stderr)
    return EXIT_USAGE


def _missing_db(db: Path) -> str:
    return f"no database at {db} (set APPLIANCE_DATA, or run `appliance db migrate`)"


def db_check(args: argparse.Namespace) -> int:
    db = paths.db_path()
    if not db.is_file():
        return _fail("db check", _missing_db(db))
    engine = create_db_engine(db)
    try:
        with unit_of_work(make_session_factory(engine, read_only=True)) as uow:
            problems = check_database(uow.session)
        try:
            watermark.check(db)
        except watermark.StoreBehindError as exc:
            problems.append(Problem("store_behind_watermark", str(exc)))
    except SQLAlchemyError as exc:
        return _fail(
            "db check", f"cannot read {db}: {exc.__class__.__name__}: {exc}".splitlines()[0]
        )
    finally:
        engine.dispose()
    _emit({"database": str(db), "ok": not problems, "problems": [p.as_dict() for p in problems]})
    return EXIT_PROBLEMS if problems else EXIT_OK


def db_migrate(args: argparse.Namespace) -> int:
    db = paths.db_path()
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail("db migrate", f"cannot create {db.parent}: {exc.strerror}")
    engine = create_db_engine(db)
    try:
        before = _revision(engine)
        head = upgrade_to_head(engine)
    except (MigrationError, SQLAlchemyError) as exc:
        return _fail("db migrate", f"{db}: {exc}".splitlines()[0])
    finally:
        engine.dispose()
    _emit({"database": str(db), "from": before, "to": head, "changed": before != head})
    return EXIT_OK


def db_accept_loss(args: argparse.Namespace) -> int:
    """IT's way on after the store lost committed work and no backup holds it: the loss goes
    into the journal, receipt numbering continues after the last number issued (none is ever
    printed twice), and the high-water mark moves to the store as it now is."""
    db = paths.db_path()
    mark = watermark.read(db)
    if mark is None:
        return _fail("db accept-loss", f"{db} has no high-water mark: nothing to accept")
    try:
        watermark.check(db)
    except watermark.StoreBehindError as exc:
        lost = str(exc)
    else:
        return _fail("db accept-loss", f"{db} is not behind its high-water mark: nothing lost")
    engine = create_db_engine(db)
    try:
        upgrade_to_head(engine)  # a store that is gone entirely starts again, empty
        before = watermark.state_of(db)
        with unit_of_work(make_session_factory(engine)) as uow:
            for terminal, number in mark.receipts.items():
                counter = uow.session.get(ReceiptCounter, terminal)
                if counter is None:
                    uow.session.add(ReceiptCounter(terminal_id=terminal, last_no=number))
                elif counter.last_no < number:
                    counter.last_no = number
            data = {"lost": lost, "mark": mark.as_dict(), "store": before.as_dict()}
            append(
                uow.session,
                JournalKind.STORE_LOSS_ACCEPTED,
                "it",
                None,
                {**data, "reason": args.reason},
            )
            uow.commit()
        after = watermark.state_of(db)
    except (MigrationError, SQLAlchemyError) as exc:
        return _fail("db accept-loss", f"{db}: {exc}".splitlines()[0])
    finally:
        engine.dispose()
    watermark.replace(db, after)
    _emit({"database": str(db), "accepted": lost, "mark": after.as_dict()})
    return EXIT_OK


def journal_verify(args: argparse.Namespace) -> int:
    db = paths.db_path()
    if not db.is_file():
        return _fail("journal verify", _missing_db(db))
    engine = create_db_engine(db)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("journal"):
                return _fail("journal verify", f"{db} is not migrated; run `appliance db migrate`")
        with unit_of_work(make_session_factory(engine, read_only=True)) as uow:
            result = verify(uow.session)
    except SQLAlchemyError as exc:
        return _fail("journal verify", f"cannot read {db}: {exc}".splitlines()[0])
    finally:
        engine.dispose()
    _emit({"database": str(db), **result.as_dict()})
    return EXIT_OK if result.intact else EXIT_PROBLEMS


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return current_revision(conn)

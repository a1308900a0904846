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
from appliance.store.check import check_database
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.journal import verify
from appliance.store.migrate import MigrationError, current_revision, upgrade_to_head

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

"""Two writers on one file (the TUI and the agent) queue on the lock instead of failing."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.store import journal
from appliance.store.check import check_database
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.journal import JournalKind, verify
from appliance.store.models import PosInvoice
from tests.store.factories import commit_one

PER_WRITER = 15


def test_concurrent_writers_serialise(
    factory: sessionmaker[Session], shift: str, db_file: Path
) -> None:
    errors: list[BaseException] = []

    def seller() -> None:
        engine = create_db_engine(db_file)
        try:
            own = make_session_factory(engine)
            for _ in range(PER_WRITER):
                commit_one(own, shift)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    def auditor() -> None:
        engine = create_db_engine(db_file)
        try:
            own = make_session_factory(engine)
            for n in range(PER_WRITER):
                with unit_of_work(own) as uow:
                    journal.append(uow.session, JournalKind.DRAWER_OPEN, "agent", None, {"n": n})
                    uow.commit()
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=t) for t in (seller, seller, auditor)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with unit_of_work(factory) as uow:
        receipts = sorted(uow.session.scalars(select(PosInvoice.receipt_no)))
        assert receipts == [f"T01-{n:06d}" for n in range(1, 2 * PER_WRITER + 1)]
        result = verify(uow.session)
        assert result.intact and result.count == 1 + 3 * PER_WRITER
        assert check_database(uow.session) == []

"""Engine, pragmas, transactions and exact money storage on a real SQLite file."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.models import ItemPrice, SyncState


def test_pragmas_on_every_connection(engine: Engine) -> None:
    for _ in range(3):  # several pooled connections, each set up by the connect hook
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_write_transactions_begin_immediate(db_file: Path, engine: Engine) -> None:
    impatient = create_db_engine(db_file, busy_timeout_ms=50)
    try:
        writer = make_session_factory(engine)()
        writer.execute(text("SELECT 1"))  # a read, but the write lock is already held
        with pytest.raises(OperationalError, match="locked"):
            make_session_factory(impatient)().execute(text("SELECT 1"))
        # Readers begin deferred and read the last committed snapshot without waiting.
        reader = make_session_factory(impatient, read_only=True)()
        assert reader.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
        reader.close()
        writer.close()
    finally:
        impatient.dispose()


def test_unit_of_work_rolls_back_unless_committed(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        uow.session.add(SyncState(key="forgotten", value="x"))
        uow.session.flush()
    with pytest.raises(RuntimeError), unit_of_work(factory) as uow:
        uow.session.add(SyncState(key="failed", value="x"))
        uow.session.flush()
        raise RuntimeError("boom")
    with unit_of_work(factory) as uow:
        uow.session.add(SyncState(key="kept", value="x"))
        uow.commit()
    with unit_of_work(factory) as uow:
        assert list(uow.session.scalars(select(SyncState.key))) == ["kept"]


@pytest.mark.parametrize(
    "amount", ["0.1", "1.10", "-0.00", "123456789012345678.123456789", "1E+3", "0.005"]
)
def test_decimal_round_trips_exactly(factory: sessionmaker[Session], amount: str) -> None:
    with unit_of_work(factory) as uow:
        uow.session.add(
            ItemPrice(name="p", item_code="A", price_list="Std", price_list_rate=Decimal(amount))
        )
        uow.commit()
    with unit_of_work(factory) as uow:
        stored = uow.session.scalars(select(ItemPrice.price_list_rate)).one()
    assert stored == Decimal(amount)
    assert str(stored) == str(Decimal(amount))  # same digits, same exponent


def test_float_money_is_refused(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        uow.session.add(ItemPrice(name="p", item_code="A", price_list="Std", price_list_rate=0.1))
        with pytest.raises(Exception, match="money must be Decimal"):
            uow.session.flush()


def test_utc_timestamps_round_trip(factory: sessionmaker[Session]) -> None:
    when = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    with unit_of_work(factory) as uow:
        uow.session.add(SyncState(key="k", value="v", updated_at=when))
        uow.commit()
    with unit_of_work(factory) as uow:
        assert uow.session.scalars(select(SyncState.updated_at)).one() == when


def test_a_store_created_under_umask_022_is_group_writable(tmp_path: Path) -> None:
    """The till and the agent are two users of one group: whoever creates the store shares it."""
    old = os.umask(0o022)
    try:
        engine = create_db_engine(tmp_path / "pos.db")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x)")
        engine.dispose()
    finally:
        os.umask(old)
    assert (tmp_path / "pos.db").stat().st_mode & 0o060 == 0o060

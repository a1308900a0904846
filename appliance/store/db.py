"""One SQLite file, opened the same way by every process: engine, sessions, unit of work.

Durability: WAL so readers never block the writer, ``synchronous=FULL`` so a commit that has
returned survives a power cut (WAL with NORMAL may lose the last commits), ``busy_timeout`` so a
second writer waits instead of failing, and foreign keys on (SQLite has them off by default).

Write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken at the start, so two
writers queue on the busy timeout instead of both reading under a shared lock and one failing
with SQLITE_BUSY when it tries to upgrade (a deadlock SQLite cannot wait out). pysqlite's own
transaction handling would emit a plain deferred BEGIN, so it is switched off and SQLAlchemy's
"begin" event emits ours (the recipe in SQLAlchemy's SQLite dialect documentation).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from appliance import paths
from appliance.store import watermark

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_BEGIN_OPTION = "appliance_begin"


class BeginMode(StrEnum):
    IMMEDIATE = "IMMEDIATE"  # writers: take the write lock up front
    DEFERRED = "DEFERRED"  # readers: a WAL snapshot, never blocks or waits for the writer


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def create_db_engine(path: Path | None = None, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine on the appliance database (``appliance.paths.db_path()`` unless given).

    Does not create the file's directory: ``db_migrate`` does, so a mistyped path fails loudly.
    """
    db_file = path if path is not None else paths.db_path()
    engine = create_engine(
        sqlite_url(db_file),
        # The TUI hands connections between its worker threads; the pool gives each connection
        # to one thread at a time, which is all sqlite3's check protects.
        connect_args={"check_same_thread": False},
    )
    _install_hooks(engine, busy_timeout_ms, db_file)
    return engine


def _share_with_group(db_file: Path) -> None:
    """Make the store group-writable, whoever created it.

    The till and the agent run as two users of group ``appliance`` (the directory is setgid);
    a store first created by root (``appliance db migrate`` from Ansible) or under umask 022
    would leave the other one with "attempt to write a readonly database". SQLite gives the
    -wal and -shm files the database file's mode, so fixing this one file is enough.
    """
    try:
        st = db_file.stat()
    except FileNotFoundError:  # an in-memory or not yet created store
        return
    if st.st_uid == os.geteuid() and st.st_mode & 0o060 != 0o060:
        os.chmod(db_file, (st.st_mode | 0o060) & 0o7777)


def _install_hooks(engine: Engine, busy_timeout_ms: int, db_file: Path) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
        # Autocommit at the driver level: we issue BEGIN ourselves (see module docstring), and
        # PRAGMAs below must run outside a transaction to take effect.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()
        _share_with_group(db_file)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, BeginMode.IMMEDIATE)
        conn.exec_driver_sql(f"BEGIN {BeginMode(mode)}")


def reader_engine(engine: Engine) -> Engine:
    """The same engine, beginning deferred transactions: for screens and reports that only read."""
    return engine.execution_options(**{_BEGIN_OPTION: BeginMode.DEFERRED.value})


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions for one process. Write sessions begin IMMEDIATE; read-only ones DEFERRED.

    ``expire_on_commit=False`` keeps committed objects readable (a receipt printed after commit
    must not trigger a fresh query per attribute).
    """
    bind = reader_engine(engine) if read_only else engine
    factory = sessionmaker(bind=bind, expire_on_commit=False)
    if not read_only:
        event.listen(factory, "after_commit", _advance_watermark)
        event.listen(factory, "after_rollback", _forget_watermark)
    return factory


# What a transaction moved the store's high-water mark to (store/watermark.py): journal.append and
# the receipt counter note it in ``session.info``; once the database has committed, the mark
# file follows.
WATERMARK_JOURNAL = "watermark_journal"
WATERMARK_RECEIPTS = "watermark_receipts"


def _advance_watermark(session: Session) -> None:
    journal = session.info.pop(WATERMARK_JOURNAL, None)
    receipts = session.info.pop(WATERMARK_RECEIPTS, None)
    bind = session.get_bind()
    database = (bind.engine if isinstance(bind, Connection) else bind).url.database
    if not (journal or receipts) or not database or database == ":memory:":
        return
    seq, digest = journal or (0, "")
    try:
        watermark.advance(Path(database), watermark.Mark(seq, digest, receipts or {}))
    except (OSError, watermark.StoreBehindError) as exc:
        # The sale is committed; only the guard against a later loss lags behind. Said loudly,
        # never raised: raising here would tell the cashier a committed sale failed.
        log.error("the store's high-water mark was not advanced: %s", exc)


def _forget_watermark(session: Session) -> None:
    session.info.pop(WATERMARK_JOURNAL, None)
    session.info.pop(WATERMARK_RECEIPTS, None)


@dataclass
class UnitOfWork:
    """One transaction. Services write through ``session`` and never commit it themselves."""

    session: Session
    committed: bool = field(default=False, init=False)

    def commit(self) -> None:
        self.session.commit()
        self.committed = True

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[UnitOfWork]:
    """A session whose work is rolled back unless ``commit()`` was called (cosmicpython style).

    >>> with unit_of_work(factory) as uow:
    ...     commit_sale(uow.session, draft)
    ...     uow.commit()
    """
    session = session_factory()
    uow = UnitOfWork(session)
    try:
        yield uow
    finally:
        # close() rolls back whatever was not committed (after an exception or a forgotten
        # commit), so a half-written sale can never be committed by accident. Unlike
        # rollback() it leaves loaded objects readable, detached, for the caller to use.
        session.close()

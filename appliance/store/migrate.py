"""Bring a database to the newest schema, from code: no alembic.ini needed on disk.

SQLite cannot alter tables in place, so batch migrations copy a table, drop the old one and
rename the copy. With foreign keys on, that DROP would cascade into child rows or fail, so
foreign keys are switched off for the migration (it must happen outside a transaction) and
``PRAGMA foreign_key_check`` must come back empty before the migration commits.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, make_url

from appliance.store.db import create_db_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class MigrationError(RuntimeError):
    pass


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine_or_url: Engine | Path | str | None = None) -> str:
    """Migrate the database to head; returns the head revision.

    Takes an engine made by ``create_db_engine``, a ``sqlite:///`` URL or a path to the SQLite
    file, or nothing for the appliance database (``appliance.paths.db_path()``).
    """
    if isinstance(engine_or_url, Engine):
        _upgrade(engine_or_url)
    else:
        engine = create_db_engine(_db_file(engine_or_url))
        try:
            _upgrade(engine)
        finally:
            engine.dispose()
    return head_revision()


def _db_file(target: Path | str | None) -> Path | None:
    if target is None or isinstance(target, Path):
        return target
    if target.startswith("sqlite"):
        database = make_url(target).database
        if not database or database == ":memory:":
            raise MigrationError(f"{target} names no database file")
        return Path(database)
    return Path(target)


def _upgrade(engine: Engine) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if driver is None:
            raise MigrationError("no SQLite connection to migrate")
        # No transaction is open yet (SQLAlchemy begins lazily), so the PRAGMA takes effect.
        driver.execute("PRAGMA foreign_keys = OFF")
        try:
            config.attributes["connection"] = connection
            # One transaction (BEGIN IMMEDIATE) for every step: env.py joins it, and it commits
            # only if the foreign keys are still whole afterwards.
            with connection.begin():
                command.upgrade(config, "head")
                violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if violations:
                    raise MigrationError(f"migration left broken foreign keys: {violations[:5]}")
        finally:
            driver.execute("PRAGMA foreign_keys = ON")

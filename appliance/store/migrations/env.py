"""Alembic environment: runs on a connection handed in by ``appliance.store.migrate``.

Run from the command line (``alembic -c appliance/store/migrations/alembic.ini ...``) it opens
the appliance database itself, so ``revision --autogenerate`` works during development.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from appliance.store.db import create_db_engine
from appliance.store.models import Base
from appliance.store.search_index import include_object

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
        # The FTS5 search tables are raw DDL (migration 0002), not models: leave them out.
        include_object=include_object,
        # SQLite does roll back DDL: run the whole upgrade as one transaction, all or nothing.
        transactional_ddl=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # The caller's transaction (appliance.store.migrate) decides whether this commits.
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine()
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported for the appliance database")
run_migrations_online()

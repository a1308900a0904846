"""An empty database migrates to head, and head is exactly what the models describe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from appliance.store.db import create_db_engine
from appliance.store.migrate import current_revision, head_revision, upgrade_to_head
from appliance.store.models import Base
from appliance.store.search_index import FTS_TABLES, include_object


# The receipt journal's expression indexes (0013_journal_search) are not in the models:
# SQLAlchemy cannot reflect them, says so, and leaves them out of the comparison.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_empty_database_migrates_to_head_matching_models(db_file: Path) -> None:
    assert upgrade_to_head(db_file) == head_revision()
    engine = create_db_engine(db_file)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            assert compare_metadata(context, Base.metadata) == []
            # The comparison does see differences: a table the database lacks shows up.
            other = MetaData()
            for table in Base.metadata.tables.values():
                table.to_metadata(other)
            Table("not_in_db", other, Column("id", Integer, primary_key=True))
            assert compare_metadata(context, other) != []
            assert set(inspect(conn).get_table_names()) >= set(Base.metadata.tables)
            # The search indexes exist, and only include_object keeps them out of the comparison.
            assert set(inspect(conn).get_table_names()) >= set(FTS_TABLES)
            bare = MigrationContext.configure(conn, opts={"compare_type": True})
            assert {d[1].name for d in compare_metadata(bare, Base.metadata)} >= set(FTS_TABLES)
    finally:
        engine.dispose()


def test_upgrade_is_repeatable(db_file: Path) -> None:
    upgrade_to_head(f"sqlite:///{db_file}")
    engine = create_db_engine(db_file)
    try:
        upgrade_to_head(engine)
        with engine.connect() as conn:
            # Foreign keys are back on after the migration switched them off.
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_cli_db_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from appliance.cli import main

    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path / "data"))
    assert main(["db", "migrate"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["from"] is None and first["to"] == head_revision() and first["changed"]
    assert (tmp_path / "data" / "pos.db").is_file()
    assert main(["db", "migrate"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.db import make_session_factory
from tests.store.factories import migrated_engine, open_test_shift


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "pos.db"


@pytest.fixture
def engine(db_file: Path) -> Iterator[Engine]:
    eng = migrated_engine(db_file)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def shift(factory: sessionmaker[Session]) -> str:
    """The offline id of an open shift."""
    return open_test_shift(factory)

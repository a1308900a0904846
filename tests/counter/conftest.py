"""A seeded demo store in a real SQLite file, and a Checkout on it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.counter.checkout import Checkout, CounterSetup
from appliance.counter.commands import open_checkout
from appliance.counter.door import Counter
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import DemoSize
from appliance.demo.seed import seed_demo
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head

SMALL = DemoSize(items=300, extra_barcodes=100, customers=60)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("template") / "pos.db"
    upgrade_to_head(db)
    seed_demo(make_session_factory(create_db_engine(db)), SMALL)
    return db


@pytest.fixture
def data_dir(tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A fresh copy per test: seeding once keeps the suite fast, copying keeps tests independent.
    # SQLite's backup API copies what is still in the WAL file too.
    with sqlite3.connect(seeded_template) as src, sqlite3.connect(tmp_path / "pos.db") as dst:
        src.backup(dst)
    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path))
    monkeypatch.setenv("APPLIANCE_CONFIG", str(DEMO_CONFIG))
    return tmp_path


@pytest.fixture
def checkout(data_dir: Path) -> Iterator[Checkout]:
    co = open_checkout(load_config(DEMO_CONFIG), data_dir / "pos.db")
    yield co
    co.close()


@pytest.fixture
def counter(data_dir: Path) -> Iterator[Counter]:
    cfg = load_config(DEMO_CONFIG)
    engine = create_db_engine(data_dir / "pos.db")
    door = Counter(
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        CounterSetup(cfg.terminal.id, cfg.pos_profile, cfg.scan),
    )
    yield door
    door.close()
    engine.dispose()

"""The store knows when it has lost something (issue: a truncated pos.db or a cut WAL let the till
sell on, restart receipt numbering and reuse lost numbers, while `db check` said all was well).

Every commit moves a high-water mark kept outside the database file; a store behind it does not
sell, is not recreated by the agent, fails `db check`, and goes on only when IT accepts the loss,
with numbering continuing after the last number issued."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from appliance.config import load_config
from appliance.counter.readiness import readiness
from appliance.demo import DEMO_CONFIG
from appliance.store import watermark
from tests.shared import appliance as _appliance


def _sell(n: int) -> dict[str, object]:
    run = _appliance("simulate", "--sales", str(n), "--seed", str(n))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def _copy(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def _put_back(old: Path, db: Path) -> None:
    """As if the newest commits never reached the disk: an older state of the same store."""
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.unlink()
    _copy(old, db)


def test_every_commit_moves_the_mark_outside_the_database(data_dir: Path) -> None:
    db = data_dir / "pos.db"
    _sell(4)
    mark = watermark.read(db)
    assert mark is not None and mark == watermark.state_of(db)
    assert mark.receipts == {"DEMO1": 4} and mark.journal_seq > 0
    assert watermark.mark_path(db).parent != db.parent
    assert watermark.mark_path(db).stat().st_mode & 0o007 == 0  # the till's and agent's only


def test_lost_sales_stop_the_till_until_it_accepts_the_loss(data_dir: Path) -> None:
    db = data_dir / "pos.db"
    _sell(5)
    _copy(db, data_dir / "before.db")
    _sell(3)  # receipts 6-8: these will be lost
    _put_back(data_dir / "before.db", db)

    sell = _appliance("simulate", "--sales", "1")
    assert sell.returncode == 2
    assert "lost committed work" in sell.stderr and "accept-loss" in sell.stderr
    assert "000008 was issued" in sell.stderr
    check = _appliance("db", "check")
    assert check.returncode == 1
    (problem,) = [p for p in json.loads(check.stdout)["problems"]]
    assert problem["check"] == "store_behind_watermark"
    screen = readiness(db, load_config(DEMO_CONFIG))
    assert not screen.ready and "lost committed work" in " ".join(screen.needs)

    accepted = _appliance("db", "accept-loss", "--reason", "ticket 42: disk replaced")
    assert accepted.returncode == 0, accepted.stderr
    after = _sell(1)
    assert after["first_receipt"] == "DEMO1-000009"  # 6-8 were printed once: never again
    assert _appliance("db", "check").returncode == 0
    verify = _appliance("journal", "verify")
    assert verify.returncode == 0, verify.stdout
    again = _appliance("db", "accept-loss", "--reason", "x")
    assert again.returncode == 2 and "nothing lost" in again.stderr


def test_a_truncated_store_is_not_recreated_by_the_agent(data_dir: Path) -> None:
    db = data_dir / "pos.db"
    _sell(2)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"")
    config = data_dir / "linked.toml"
    config.write_text(
        DEMO_CONFIG.read_text()
        + '\n[erpnext]\nurl = "http://127.0.0.1:9"\napi_key = "k"\n'
        + f'api_secret_file = "{data_dir / "secret"}"\npos_profile = "Main POS"\n'
    )
    (data_dir / "secret").write_text("s\n")
    os.chmod(data_dir / "secret", 0o600)
    env = dict(os.environ, APPLIANCE_CONFIG=str(config))
    sync = _appliance("sync", "--once", env=env)
    assert sync.returncode == 2
    assert "missing or empty, but it held committed work" in sync.stderr
    assert db.stat().st_size == 0  # not replaced by a fresh store with numbering from 000001

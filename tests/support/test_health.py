"""``appliance health`` on real stores: each check failing for its real cause; the CLI exit."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.counter.checkout import Checkout
from appliance.demo import DEMO_CONFIG
from appliance.store import sync_state as state
from appliance.store.db import create_db_engine, make_session_factory
from appliance.support.health import HealthOptions, run_health
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, sell, write_config
from tests.support.conftest import run_cli, units_file


def _set_agent_state(db: Path, **values: object) -> None:
    engine = create_db_engine(db)
    try:
        state.write_state(make_session_factory(engine), values)
    finally:
        engine.dispose()


def test_healthy_demo_till_exits_zero(db_path: Path, tmp_path: Path) -> None:
    code, report, _ = run_cli("health", "--units-from", str(units_file(tmp_path)))
    assert code == 0, report
    assert report["ok"] is True
    assert report["terminal"] == "DEMO1"
    assert set(report["checks"]) == {"config", "tui", "agent", "database", "sync", "queue", "disk"}
    assert report["checks"]["tui"]["source"] == f"file {tmp_path / 'units.json'}"
    assert report["sale_in_progress"]["busy"] is False


def test_off_systemd_unit_states_are_unknown_not_failures(db_path: Path) -> None:
    if Path("/run/systemd/system").is_dir():
        pytest.skip("this machine runs systemd: the states are real here")
    report = run_health(HealthOptions())
    assert report["checks"]["tui"] == {
        "ok": True,
        "status": "unknown: not under systemd",
        "unit": "appliance-tui.service",
        "state": "unknown",
        "source": "unknown: not under systemd",
    }


def test_failed_tui_and_inactive_agent_fail_when_linked(
    db_path: Path, tmp_path: Path, erp: FakeERPNext
) -> None:
    config = write_config(tmp_path, erp)
    units = units_file(tmp_path, tui="failed", agent="inactive")
    code, report, _ = run_cli("health", "--config", str(config), "--units-from", str(units))
    assert code == 1
    assert report["ok"] is False
    assert report["checks"]["tui"]["ok"] is False and report["checks"]["tui"]["status"] == "failed"
    assert report["checks"]["agent"]["ok"] is False


def test_agent_not_needed_without_erpnext_section(db_path: Path, tmp_path: Path) -> None:
    units = units_file(tmp_path, agent="inactive")
    report = run_health(HealthOptions(units_from=units))
    assert report["ok"] is True
    assert report["checks"]["agent"]["status"].startswith("inactive (not needed")


def test_invalid_config_fails(db_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(DEMO_CONFIG.read_text().replace("= 120", "= 5"), encoding="utf-8")
    report = run_health(HealthOptions(config=bad, units_from=units_file(tmp_path)))
    assert report["ok"] is False
    assert (
        "inactivity_lock_seconds: must be between 10 and 3600"
        in (report["checks"]["config"]["status"])
    )


def test_missing_database_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("APPLIANCE_CONFIG", str(DEMO_CONFIG))
    report = run_health(HealthOptions(units_from=units_file(tmp_path)))
    assert report["checks"]["database"] == {
        "ok": False,
        "status": f"no database at {tmp_path / 'nothing-here' / 'pos.db'}",
    }
    assert report["checks"]["disk"]["ok"] is True  # measured on the parent that exists


def test_broken_invariant_fails_database_check(db_path: Path, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM alembic_version")
    report = run_health(HealthOptions(units_from=units_file(tmp_path)))
    assert report["checks"]["database"]["ok"] is False
    assert report["checks"]["database"]["problems"][0]["check"] == "schema"


def test_sync_age_and_stopped_link(db_path: Path, tmp_path: Path, erp: FakeERPNext) -> None:
    config = write_config(tmp_path, erp)
    units = units_file(tmp_path)
    never = run_health(HealthOptions(config=config, units_from=units))["checks"]["sync"]
    assert (never["ok"], never["status"]) == (True, "never synced yet: no agent cycle recorded")

    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    _set_agent_state(db_path, link="up", last_push={"at": two_days_ago, "created": 1})
    old = run_health(HealthOptions(config=config, units_from=units))
    assert old["ok"] is False
    assert old["checks"]["sync"]["status"].endswith("(limit 86400 s)")
    relaxed = run_health(HealthOptions(config=config, units_from=units, max_sync_age=0))
    assert relaxed["ok"] is True

    _set_agent_state(
        db_path,
        link="stopped",
        last_error="401 AuthenticationError",
        last_pull={"at": datetime.now(UTC).isoformat(), "applied": 3},
    )
    stopped = run_health(HealthOptions(config=config, units_from=units, max_sync_age=0))
    assert stopped["ok"] is False
    assert stopped["checks"]["sync"]["status"] == (
        "sync stopped, a person must act: 401 AuthenticationError"
    )


def test_sync_failing_cycles_in_a_row_fail_health(
    db_path: Path, tmp_path: Path, erp: FakeERPNext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only after 24 h: three failed `sync --once` cycles in a row (ERPNext answering 502
    here) fail the check with the named problem; one good cycle clears it."""
    config = write_config(tmp_path, erp)
    monkeypatch.setenv("APPLIANCE_CONFIG", str(config))
    units = units_file(tmp_path)
    assert main(["sync", "--once"]) == 0
    erp.fail_next(1000, 502)
    for n in range(1, state.FAILING_CYCLES + 1):
        assert main(["sync", "--once"]) == 1
        sync = run_health(HealthOptions(config=config, units_from=units))["checks"]["sync"]
        assert sync["failed_cycles"] == n
        assert sync["ok"] is (n < state.FAILING_CYCLES), sync
    assert sync["status"] == "sync failed 3 cycles in a row: HTTP 502 InternalServerError: " + (
        "Injected failure"
    )
    lenient = HealthOptions(config=config, units_from=units, max_failed_cycles=0)
    assert run_health(lenient)["checks"]["sync"]["ok"] is True  # what a rollout may choose
    erp.fail_next(0)
    assert main(["sync", "--once"]) == 0
    sync = run_health(HealthOptions(config=config, units_from=units))["checks"]["sync"]
    assert sync["ok"] is True and sync["failed_cycles"] == 0


def test_too_little_disk_fails(db_path: Path, tmp_path: Path) -> None:
    free_mb = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize // 2**20
    report = run_health(HealthOptions(units_from=units_file(tmp_path), min_free_mb=free_mb + 10**6))
    assert report["ok"] is False
    assert report["checks"]["disk"]["ok"] is False


def test_never_synced_link_down_past_the_limit_and_quarantine_fail_with_reasons(
    checkout: Checkout, db_path: Path, tmp_path: Path, erp: FakeERPNext
) -> None:
    """A till that has tried for longer than --max-link-down without reaching ERPNext fails,
    whether it ever synced or not; a quarantined document fails the queue check by name."""
    config = write_config(tmp_path, erp)
    units = units_file(tmp_path)
    opts = HealthOptions(config=config, units_from=units, max_sync_age=0)
    ago = (datetime.now(UTC) - timedelta(minutes=20)).isoformat(timespec="seconds")
    _set_agent_state(db_path, link="down", last_error="connection refused")
    fresh = run_health(opts)["checks"]["sync"]
    assert fresh["ok"] is True, fresh  # a till just booted gets its grace time
    assert fresh["status"] == "never synced yet (link down: connection refused)"
    _set_agent_state(db_path, link_since=ago)
    never = run_health(opts)["checks"]["sync"]
    assert never["ok"] is False
    assert never["status"].startswith("never synced with ERPNext: link down for 20 min")

    now = datetime.now(UTC).isoformat(timespec="seconds")
    _set_agent_state(db_path, link="up", last_pull={"at": now, "applied": 1})
    _set_agent_state(db_path, link="down")
    _set_agent_state(db_path, link_since=ago)  # (a change of link moves link_since itself)
    down = run_health(opts)["checks"]["sync"]
    assert down["ok"] is False
    assert down["status"] == "link down for 20 min (limit 15 min): connection refused"
    relaxed = run_health(HealthOptions(config=config, units_from=units, max_link_down=0))
    assert relaxed["checks"]["sync"]["ok"] is True

    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    poison = sell(checkout, 11).offline_id
    erp.reject(poison, "Row #1: Rate cannot be zero for this item")
    code, _, err = run_cli("sync", "--once", "--config", str(config))
    assert code == 0, err
    queue = run_health(opts)["checks"]["queue"]
    assert queue["ok"] is False
    assert queue["status"] == (
        f"1 document quarantined: POS Invoice {poison}: Row #1: Rate cannot be zero for this item"
    )
    assert queue["unsent"] == 0 and queue["quarantined"] == 1

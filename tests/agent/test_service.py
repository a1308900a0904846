"""The agent's cycle, its service loop, sd_notify, and the `sync --once` / `status` commands."""

from __future__ import annotations

import json
import logging
import random
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance.agent.push import Backoff
from appliance.agent.service import (
    MIN_DELAY,
    AgentService,
    AlreadyRunningError,
    Notifier,
    Syncer,
    agent_lock,
    agent_running,
)
from appliance.cli import main
from appliance.config import load_config
from appliance.counter.checkout import Checkout
from appliance.store import sync_state as state
from appliance.store.sync_state import Link
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, sell, write_config


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _syncer(db_path: Path, erp: FakeERPNext, secret: str | None = None, **kw: object) -> Syncer:
    cfg = load_config(write_config(db_path.parent, erp, secret))
    assert cfg.erpnext is not None
    options: dict[str, object] = {
        "interval": 0.05,
        "backoff": Backoff(base=0.5, cap=4, rng=random.Random(3)),
        "batch_size": 10,
    }
    options.update(kw)
    return Syncer(cfg.erpnext, db_path, **options)  # type: ignore[arg-type]


def _agent_state(syncer: Syncer) -> dict[str, object]:
    with syncer.read() as session:
        return state.read_state(session)


# -- sd_notify -----------------------------------------------------------------------------------
@pytest.fixture
def notify_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    # AF_UNIX paths are short (108 bytes): not under pytest's long tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="sdn-", dir="/tmp"))
    path = directory / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()
    path.unlink(missing_ok=True)
    directory.rmdir()


def test_notifier_is_silent_without_a_socket() -> None:
    notifier = Notifier(env={"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled and notifier.watchdog_every is None
    notifier.ready("x")
    notifier.status("y")
    notifier.watchdog()
    notifier.stopping()


def test_notifier_speaks_sd_notify(notify_socket: socket.socket) -> None:
    env = {"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "2000000"}
    notifier = Notifier(env=env)
    assert notifier.watchdog_every == pytest.approx(0.5)
    notifier.ready("started")
    notifier.status("pushed 1, 0 quarantined, 0 waiting, last pull 10:42, link up")
    notifier.status(
        "pushed 1, 0 quarantined, 0 waiting, last pull 10:42, link up"
    )  # same: not resent
    notifier.watchdog()
    notifier.watchdog()  # too soon: not resent
    notifier.stopping()
    got = [notify_socket.recv(4096).decode() for _ in range(4)]
    assert got[0] == "READY=1\nSTATUS=started"
    assert got[1] == "STATUS=pushed 1, 0 quarantined, 0 waiting, last pull 10:42, link up"
    assert got[2] == "WATCHDOG=1"
    assert got[3].startswith("STOPPING=1")


def test_watchdog_is_off_for_another_pid() -> None:
    env = {"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}
    assert Notifier(env=env).watchdog_every is None


# -- one cycle -----------------------------------------------------------------------------------
def test_a_good_cycle_pushes_pulls_and_records_the_state(
    checkout: Checkout, db_path: Path, erp: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    sell(checkout, 11, 12)
    syncer = _syncer(db_path, erp)
    try:
        result = syncer.cycle()
        assert result.link is Link.UP and result.error is None
        assert result.push is not None and len(result.push.created) == 3
        assert result.pull is not None and result.pull.total > 0
        assert result.delay == syncer.interval
        saved = _agent_state(syncer)
        assert saved["link"] == "up" and saved["last_error"] is None
        assert saved["last_push"]["created"] == 3  # type: ignore[index]
        assert saved["last_pull"]["applied"] == result.pull.total  # type: ignore[index]
        line = syncer.status_line(result)
        assert line.startswith("pushed 3, 0 quarantined, 0 waiting, last pull ")
        assert line.endswith(", link up")
        # Nothing new: nothing sent, nothing applied.
        again = syncer.cycle()
        assert again.push is not None and again.push.synced == 0
        assert again.pull is not None and again.pull.total == 0
    finally:
        syncer.close()


def test_link_down_backs_off_more_and_more(
    checkout: Checkout, db_path: Path, erp: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    syncer = _syncer(db_path, erp)
    erp.stop()
    try:
        delays = []
        for _ in range(4):
            result = syncer.cycle()
            assert result.link is Link.DOWN
            assert result.error is not None and "connection" in result.error
            assert result.delay >= MIN_DELAY
            delays.append(result.delay)
        assert delays[-1] > delays[0]
        saved = _agent_state(syncer)
        assert saved["link"] == "down" and "connection" in str(saved["last_error"])
        assert "link DOWN, retry in" in syncer.status_line(result)
    finally:
        syncer.close()


def test_auth_failure_stops_with_a_clear_status(
    checkout: Checkout, db_path: Path, erp: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    syncer = _syncer(db_path, erp, secret="wrong-secret", stop_retry=300)
    try:
        result = syncer.cycle()
        assert result.link is Link.STOPPED and result.delay == 300
        assert result.error is not None and "authentication failed" in result.error
        assert "wrong-secret" not in result.error
        saved = _agent_state(syncer)
        assert saved["link"] == "stopped"
        assert "authentication failed" in str(saved["last_error"])
        assert "STOPPED: authentication failed" in syncer.status_line(result)
        assert "retry in 5 min" in syncer.status_line(result)
    finally:
        syncer.close()


def test_a_missing_secret_is_a_stop_not_a_crash(db_path: Path, erp: FakeERPNext) -> None:
    syncer = _syncer(db_path, erp)
    assert syncer.erpnext.api_secret_file.exists()
    syncer.erpnext.api_secret_file.unlink()
    try:
        result = syncer.cycle()
        assert result.link is Link.STOPPED
        assert "api_secret_file" in str(result.error)
    finally:
        syncer.close()


# -- the loop ------------------------------------------------------------------------------------
def test_the_loop_does_not_hammer_erpnext_after_an_auth_failure(
    checkout: Checkout, db_path: Path, erp: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    syncer = _syncer(db_path, erp, secret="wrong-secret", stop_retry=300)
    service = AgentService(syncer, Notifier(env={}), pull_interval=0.05, slice=0.02)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        time.sleep(1.0)
        assert thread.is_alive()  # the agent stays up, saying why it cannot work
    finally:
        started = time.monotonic()
        service.request_stop()
        thread.join(5)
        syncer.close()
    assert not thread.is_alive() and time.monotonic() - started < 1.0
    refused = [e for e in erp.log if e.status == 401]
    assert len(refused) == 1  # one try, then 5 minutes of quiet


def test_the_loop_keeps_pushing_new_sales(
    checkout: Checkout, db_path: Path, erp: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    syncer = _syncer(db_path, erp)
    service = AgentService(syncer, Notifier(env={}), pull_interval=60, slice=0.02)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        sold = [sell(checkout, n).offline_id for n in (10, 11, 12)]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            len(erp.site.all("POS Invoice")) < 3 or syncer.totals.pulls < 1
        ):
            time.sleep(0.05)
        time.sleep(0.3)  # a few more cycles
        assert sorted(i["offline_id"] for i in erp.site.all("POS Invoice")) == sorted(sold)
    finally:
        service.request_stop()
        thread.join(5)
        syncer.close()
    # Pulled once at start (pull_interval 60 s), pushed every cycle.
    assert syncer.totals.pulls == 1 and syncer.totals.pushed == 4


# -- lock ----------------------------------------------------------------------------------------
def test_one_pusher_per_store(tmp_path: Path) -> None:
    assert agent_running(tmp_path) is None
    with agent_lock(tmp_path):
        assert agent_running(tmp_path) is not None
        with pytest.raises(AlreadyRunningError, match="pid"), agent_lock(tmp_path, wait=0.1):
            pass
    assert agent_running(tmp_path) is None


# -- commands ------------------------------------------------------------------------------------
def test_sync_once_and_status(
    checkout: Checkout,
    db_path: Path,
    erp: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    poison = sell(checkout, 11).offline_id
    erp.reject(poison, "Row #1: Rate cannot be zero for this item")

    assert main(["sync", "--once"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["link"] == "up"
    assert summary["push"]["created"] == 2  # opening + the good sale
    assert summary["push"]["quarantined"][0]["offline_id"] == poison
    assert summary["pull"]["total"] > 0
    assert summary["queue"]["done"] == 2 and summary["queue"]["quarantined"] == 1

    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["link"] == "up" and status["terminal"] == "DEMO1"
    assert status["agent"] == {"running": False, "pid": None}
    assert status["queue"]["done"] == 2
    assert status["quarantined_count"] == 1
    (held,) = status["quarantined"]
    assert held["offline_id"] == poison and "Rate cannot be zero" in held["message"]
    assert status["last_push"]["created"] == 2 and status["last_pull"]["applied"] > 0


def test_sync_once_fails_loudly_on_auth_and_link(
    db_path: Path,
    erp: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp, "nope")))
    assert main(["sync", "--once"]) == 3
    out, err = capsys.readouterr()
    assert json.loads(out)["link"] == "stopped"
    (line,) = err.strip().splitlines()
    assert line.startswith("sync: stopped: authentication failed")

    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
    erp.stop()
    assert main(["sync", "--once"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["link"] == "down"
    (line,) = err.strip().splitlines()
    assert line.startswith("sync: ERPNext link down:")

    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["link"] == "down" and "connection" in status["last_error"]


def test_sync_needs_an_erpnext_section(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # db_path points APPLIANCE_CONFIG at the demo config, which has no [erpnext].
    assert main(["sync", "--once"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "[erpnext]" in line


def test_status_without_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path / "none"))
    assert main(["status"]) == 2
    assert "no database" in capsys.readouterr().err


def test_logging_goes_to_the_journal_under_systemd_else_stderr() -> None:
    from systemd.journal import JournalHandler

    from appliance.agent.service import setup_logging

    assert isinstance(setup_logging(env={"INVOCATION_ID": "0123"}), JournalHandler)
    assert isinstance(setup_logging(env={"JOURNAL_STREAM": "8:1234"}), JournalHandler)
    plain = setup_logging(env={})
    assert isinstance(plain, logging.StreamHandler) and not isinstance(plain, JournalHandler)


def test_push_logs_carry_journal_fields(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, caplog: pytest.LogCaptureFixture
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sale = sell(checkout, 10)
    syncer = _syncer(db_path, erp)
    try:
        with caplog.at_level(logging.INFO, logger="appliance.agent.push"):
            syncer.cycle(pull=False)
    finally:
        syncer.close()
    (record,) = [r for r in caplog.records if getattr(r, "OFFLINE_ID", None) == sale.offline_id]
    assert record.DOCTYPE == "POS Invoice"  # type: ignore[attr-defined]
    assert record.ERPNEXT_NAME.startswith("ACC-PSINV-")  # type: ignore[attr-defined]

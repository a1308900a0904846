"""The till's activity file and ``appliance busy``, across real processes."""

from __future__ import annotations

import logging
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from appliance.support.activity import FILENAME, TillActivity, read_activity
from tests.support.conftest import run_cli


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path))
    return tmp_path


def test_never_written_is_idle(data: Path) -> None:
    code, doc, _ = run_cli("busy")
    assert (code, doc["busy"]) == (1, False)


def test_open_cart_is_busy_until_finished(data: Path) -> None:
    till = TillActivity(data)
    till.update(lines=2)
    code, doc, _ = run_cli("busy")
    assert code == 0
    assert doc["busy"] is True and doc["lines"] == 2 and doc["since"]
    till.update(lines=0, paid=Decimal("5.00"))  # lines voided, but a partial payment was taken
    assert read_activity(data).busy is True
    till.idle()
    code, doc, _ = run_cli("busy")
    assert (code, doc["busy"]) == (1, False)


def test_the_tills_background_writes_land_in_order(data: Path) -> None:
    """The till writes from its own thread (no disk write mid-scan): the last change wins."""
    till = TillActivity(data, background=True)
    for lines in range(1, 200):
        till.update(lines=lines)
    till.idle()
    till.update(lines=3)
    till.flush()
    doc = read_activity(data)
    assert doc.busy is True and doc.lines == 3
    till.close()


def test_a_write_that_fails_is_logged_not_raised(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A full or broken disk must not end the till over a hint for rollouts."""
    # Its own level: a CLI run earlier in the same test process may leave the root at CRITICAL.
    caplog.set_level(logging.WARNING, logger="appliance.support.activity")
    till = TillActivity(data / "gone", background=True)
    till.update(lines=1)
    till.flush()
    till.close()
    assert "till activity not written" in caplog.text


def test_file_left_by_a_dead_till_is_idle(data: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    TillActivity(data, pid=int(dead.stdout)).update(lines=3)
    activity = read_activity(data)
    assert (activity.busy, activity.stale, activity.lines) == (False, True, 3)


def test_unchanged_cart_does_not_rewrite(data: Path) -> None:
    till = TillActivity(data)
    till.update(lines=1)
    before = (data / FILENAME).stat().st_mtime_ns
    (data / FILENAME).touch()
    touched = (data / FILENAME).stat().st_mtime_ns
    till.update(lines=1)
    assert (data / FILENAME).stat().st_mtime_ns == touched >= before


def test_garbage_file_is_an_error_not_a_guess(data: Path) -> None:
    (data / FILENAME).write_text("{not json", encoding="utf-8")
    code, doc, err = run_cli("busy")
    assert code == 2 and doc is None
    assert FILENAME in err

"""The systemd unit files under deploy/: what they promise, and `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
INSTALLED = "/opt/appliance/venv/bin/appliance"


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_agent_unit_promises() -> None:
    service = _unit("appliance-agent.service")["Service"]
    assert service["Type"] == "notify"
    assert service["ExecStart"] == f"{INSTALLED} agent"
    assert int(service["WatchdogSec"]) >= 60
    assert service["Restart"] == "always"
    assert service["User"] == "pos-agent"
    assert service["LoadCredential"] == "erpnext-secret:/etc/appliance/erpnext.secret"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/appliance"
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert service[key] == "yes"


def test_tui_unit_promises() -> None:
    service = _unit("appliance-tui.service")["Service"]
    assert service["ExecStart"] == f"{INSTALLED} tui"
    assert service["User"] == "pos"
    assert service["TTYPath"] == "/dev/tty1"
    assert service["StandardInput"] == "tty"
    assert service["Restart"] == "always"
    assert "LoadCredential" not in service and "SetCredential" not in service
    assert "/etc/appliance/erpnext.secret" in service["InaccessiblePaths"]
    # Least privilege (issue 13; the image's boot test checks it on the running till): no
    # capabilities, a system-call filter, only the device classes a till's peripherals use.
    text = (UNITS / "appliance-tui.service").read_text(encoding="utf-8")
    assert service["CapabilityBoundingSet"] == "" and service["NoNewPrivileges"] == "yes"
    assert "SystemCallFilter=@system-service\n" in text
    assert service["SystemCallArchitectures"] == "native"
    assert service["DevicePolicy"] == "closed"
    assert "DeviceAllow=char-input r\n" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at this checkout's entry point.
    here = Path(sys.executable).parent / "appliance"
    assert here.exists()
    for unit in UNITS.glob("*.service"):
        text = unit.read_text(encoding="utf-8").replace(INSTALLED, str(here))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    units = sorted(str(p) for p in tmp_path.glob("*.service"))
    assert len(units) == 2
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
        # Warnings (an unknown key, a bad value) go to the console, not to a journal.
        env={**os.environ, "SYSTEMD_LOG_TARGET": "console", "SYSTEMD_LOG_COLOR": "0"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr

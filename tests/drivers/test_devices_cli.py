"""`appliance devices` and `appliance devices test` against twins on real pseudo-terminals."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.drivers.virtual.display import VirtualDisplay
from appliance.drivers.virtual.printer import VirtualPrinter
from appliance.drivers.virtual.scale import VirtualScale
from appliance.drivers.virtual.scanner import VirtualScanner


class Twins:
    def __init__(self, root: Path) -> None:
        self.printer = VirtualPrinter(root / "printer")
        self.display = VirtualDisplay(root / "display")
        self.scale = VirtualScale(root / "scale")
        self.scanner = VirtualScanner(root / "scanner")
        self.all = (self.printer, self.display, self.scale, self.scanner)


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[Twins]:
    t = Twins(tmp_path)
    for twin in t.all:
        twin.plug()
    yield t
    for twin in t.all:
        twin.unplug()


@pytest.fixture
def config(tmp_path: Path, twins: Twins) -> Path:
    f = tmp_path / "appliance.toml"
    f.write_text(
        f"""
[terminal]
id = "T1"
pos_profile = "Main POS"

[devices.printer]
kind = "printer"
backend = "serial"
port = "{twins.printer.path}"
baud = 19200
status_query = true

[devices.drawer]
kind = "drawer"
backend = "printer"
open_level = "high"

[devices.display]
kind = "display"
port = "{twins.display.path}"

[devices.scale]
kind = "scale"
port = "{twins.scale.path}"

[devices.scanner]
kind = "scanner"
backend = "serial"
port = "{twins.scanner.path}"
timeout = 0.1
"""
    )
    return f


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_devices_lists_configured_devices_with_their_state(
    config: Path, twins: Twins, capsys: pytest.CaptureFixture[str]
) -> None:
    twins.scale.unplug()
    code, out, err = _run(capsys, "devices", "--config", str(config))
    assert code == 0, err
    report = json.loads(out)
    rows = {d["name"]: d for d in report["configured"]}
    assert rows["printer"] == {
        "name": "printer",
        "kind": "printer",
        "backend": "serial",
        "port": twins.printer.path,
        "state": "online",
        "error": None,
    }
    assert rows["drawer"]["state"] == "online" and rows["drawer"]["port"] == "via [devices.printer]"
    assert rows["display"]["state"] == "online"
    assert rows["scale"]["state"] == "offline" and twins.scale.path in rows["scale"]["error"]
    assert rows["scanner"]["backend"] == "serial"
    assert isinstance(report["detected"]["serial"], list)
    for port in report["detected"]["serial"]:
        assert {"device", "by_id", "usb"} <= set(port)


def test_printer_test_page_goes_over_the_wire(
    config: Path, twins: Twins, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "devices", "test", "printer", "--config", str(config))
    assert code == 0, err
    assert out == "printer: test page printed (48 columns)\n"
    assert twins.printer.wait_for(b"\x1dV")
    text = twins.printer.text()
    assert "TEST PAGE" in text and "[QR TEST-0001]" in text


def test_drawer_display_scale_and_scanner(
    config: Path, twins: Twins, capsys: pytest.CaptureFixture[str]
) -> None:
    twins.printer.drawer_sensor_high = True
    code, out, _ = _run(capsys, "devices", "--config", str(config), "test", "drawer")
    assert code == 0 and out == "drawer: drawer kicked, sensor says open\n"
    assert twins.printer.wait_for(b"\x1bp")

    code, out, _ = _run(capsys, "devices", "test", "display", "--config", str(config))
    assert code == 0 and out.startswith("display: showing")
    deadline = threading.Event()
    for _ in range(50):
        if twins.display.lines[0] == "DISPLAY TEST 1234567":
            break
        deadline.wait(0.02)
    assert twins.display.lines == ("DISPLAY TEST 1234567", "ABCDEFGHIJKLMNOPQRST")

    twins.scale.set_weight(Decimal("1.235"))
    code, out, _ = _run(capsys, "devices", "test", "scale", "--config", str(config))
    assert code == 0 and out == "scale: 1.235 kg\n"

    timer = threading.Timer(0.3, twins.scanner.scan, args=("0123456789012",))
    timer.start()
    code, out, _ = _run(capsys, "devices", "test", "scanner", "--config", str(config))
    timer.join()
    assert code == 0 and out == "scanner: scanned 0123456789012\n"


def test_an_offline_device_is_one_line_naming_it(
    config: Path, twins: Twins, capsys: pytest.CaptureFixture[str]
) -> None:
    twins.printer.unplug()
    code, out, err = _run(capsys, "devices", "test", "printer", "--config", str(config))
    assert code == 1 and out == ""
    assert err.startswith("devices test: printer: offline (") and err.count("\n") == 1
    assert twins.printer.path in err

    twins.scale.set_weight(Decimal("1"), motion=True)
    code, _, err = _run(capsys, "devices", "test", "scale", "--config", str(config))
    assert (
        code == 1
        and err == "devices test: scale: weight is not stable: wait for the scale to settle\n"
    )

    code, _, err = _run(
        capsys, "devices", "test", "scanner", "--wait", "0.2", "--config", str(config)
    )
    assert code == 1 and err == "devices test: scanner: no scan within 0.2 s\n"


def test_an_unconfigured_kind_names_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "a.toml"
    f.write_text('[terminal]\nid = "T1"\npos_profile = "P"\n')
    code, _, err = _run(capsys, "devices", "test", "scale", "--config", str(f))
    assert code == 2
    assert err == f'devices test: no [devices.*] table with kind = "scale" in {f}\n'
    code, out, _ = _run(capsys, "devices", "--config", str(f))
    assert code == 0 and json.loads(out)["configured"] == []


def test_a_drawer_test_is_journaled_in_the_store(
    config: Path,
    twins: Twins,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sqlalchemy import select

    from appliance.store.db import create_db_engine, make_session_factory
    from appliance.store.journal import verify
    from appliance.store.migrate import upgrade_to_head
    from appliance.store.models import JournalEntry

    data = tmp_path / "data"
    monkeypatch.setenv("APPLIANCE_DATA", str(data))
    code, out, err = _run(capsys, "devices", "test", "drawer", "--config", str(config))
    assert code == 0, err
    assert not data.exists()  # no store on this machine: nothing made up for it

    data.mkdir()
    upgrade_to_head(data / "pos.db")
    code, out, err = _run(capsys, "devices", "test", "drawer", "--config", str(config))
    assert code == 0 and out.startswith("drawer: drawer kicked"), err
    engine = create_db_engine(data / "pos.db")
    try:
        with make_session_factory(engine, read_only=True)() as session:
            entries = session.scalars(select(JournalEntry)).all()
            assert [(e.kind, json.loads(e.data)) for e in entries] == [
                ("drawer_open", {"reason": "devices test", "device": "drawer"})
            ]
            assert entries[0].actor.startswith("cli")
            assert verify(session).intact
    finally:
        engine.dispose()

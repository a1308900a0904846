"""Unplug and replug: the state goes OFFLINE and comes back ONLINE by the supervisor's retry."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance.drivers.config import DisplayConfig, ScaleConfig, SerialSettings
from appliance.drivers.display import VfdDisplay
from appliance.drivers.errors import DeviceOfflineError
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.scale import ToledoScale
from appliance.drivers.state import DeviceState, DeviceStatus
from appliance.drivers.supervisor import Supervisor
from appliance.drivers.virtual.display import VirtualDisplay
from appliance.drivers.virtual.printer import VirtualPrinter
from appliance.drivers.virtual.scale import VirtualScale
from tests.drivers.conftest import printer_config


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_unplug_replug_every_device(tmp_path: Path) -> None:
    vprinter = VirtualPrinter(tmp_path / "printer")
    vscale = VirtualScale(tmp_path / "scale")
    vdisplay = VirtualDisplay(tmp_path / "display")
    for twin in (vprinter, vscale, vdisplay):
        twin.plug()
    printer = EscposPrinter(printer_config(vprinter.path, status_query=True))
    scale = ToledoScale(ScaleConfig("scale", SerialSettings(vscale.path, timeout=0.2)))
    display = VfdDisplay(DisplayConfig("display", SerialSettings(vdisplay.path)))
    seen: list[DeviceStatus] = []
    for device in (printer, scale, display):
        device.status.subscribe(seen.append)
    devices = (printer, scale, display)
    supervisor = Supervisor(devices, first_retry=0.05, max_retry=0.2, probe_interval=0.05)
    try:
        with supervisor:
            assert _wait(lambda: all(d.status.state is DeviceState.ONLINE for d in devices))
            vscale.set_weight("0.420")
            assert scale.read_weight().value == D("0.420")

            for twin in (vprinter, vscale, vdisplay):
                twin.unplug()
            assert _wait(lambda: all(d.status.state is DeviceState.OFFLINE for d in devices))
            # Calls fail fast while the device is away: the till keeps selling.
            started = time.monotonic()
            with pytest.raises(DeviceOfflineError):
                scale.read_weight()
            with pytest.raises(DeviceOfflineError):
                display.show("hello")
            assert time.monotonic() - started < 0.1

            for twin in (vprinter, vscale, vdisplay):
                twin.plug()
            assert _wait(lambda: all(d.status.state is DeviceState.ONLINE for d in devices))
            assert scale.read_weight().value == D("0.420")
            display.show("back", "again")
            assert _wait(lambda: vdisplay.lines[0].startswith("back"))
    finally:
        for twin in (vprinter, vscale, vdisplay):
            twin.unplug()
    states: list[DeviceState] = []
    for status in seen:  # an OFFLINE device reports each new reason; keep the transitions
        if status.device == "scale" and (not states or states[-1] is not status.state):
            states.append(status.state)
    assert states[:3] == [DeviceState.ONLINE, DeviceState.OFFLINE, DeviceState.ONLINE]


def test_device_lost_mid_operation_is_retried(tmp_path: Path) -> None:
    vscale = VirtualScale(tmp_path / "scale")
    vscale.plug()
    scale = ToledoScale(ScaleConfig("scale", SerialSettings(vscale.path, timeout=0.2)))
    try:
        with Supervisor([scale], first_retry=0.05, probe_interval=10):
            assert _wait(lambda: scale.status.state is DeviceState.ONLINE)
            vscale.unplug()
            vscale.plug()  # a quick replug the slow probe never saw
            with pytest.raises(DeviceOfflineError):
                scale.read_weight()  # the old port is dead: the driver reports itself
            assert _wait(lambda: scale.status.state is DeviceState.ONLINE, 2)
            assert scale.read_weight().value == D(0)
    finally:
        vscale.unplug()

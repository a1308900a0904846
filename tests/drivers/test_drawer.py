"""Drawer kick through the printer (ESC p via python-escpos) and its sensor (DLE EOT 1)."""

from __future__ import annotations

from pathlib import Path

from appliance.drivers.config import DrawerBackend, DrawerConfig, SerialSettings
from appliance.drivers.drawer import PrinterDrawer, SerialDrawer
from appliance.drivers.interfaces import DrawerOpening
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.virtual.printer import VirtualPrinter
from appliance.drivers.virtual.pty_device import PtyDevice


def test_kick_through_printer(printer: EscposPrinter, vprinter: VirtualPrinter) -> None:
    openings: list[DrawerOpening] = []
    drawer = PrinterDrawer(
        DrawerConfig("drawer", DrawerBackend.PRINTER, pin=2, open_level=True),
        printer,
        on_opening=openings.append,
    )
    drawer.kick("no sale")
    assert vprinter.wait_for(b"\x1bp\x00")
    assert b"\x1bp\x00\x32\x32" in vprinter.received  # ESC p m t1 t2, pin 2, 100 ms pulses
    assert [o.reason for o in openings] == ["no sale"]

    vprinter.drawer_sensor_high = True
    assert drawer.is_open() is True
    vprinter.drawer_sensor_high = False
    assert drawer.is_open() is False
    assert b"\x10\x04\x01" in vprinter.received  # DLE EOT 1 on the wire


def test_serial_drawer(tmp_path: Path) -> None:
    received = bytearray()

    class Twin(PtyDevice):
        def on_bytes(self, data: bytes) -> None:
            received.extend(data)

    with Twin(tmp_path / "drawer") as twin:
        drawer = SerialDrawer(
            DrawerConfig(
                "drawer",
                DrawerBackend.SERIAL,
                serial=SerialSettings(twin.path),
                kick_bytes=b"\x07",
            )
        )
        drawer.open()
        drawer.kick("sale T01-000003")
        drawer.close()
        import time

        deadline = time.monotonic() + 2
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
    assert bytes(received) == b"\x07"
    assert drawer.is_open() is None

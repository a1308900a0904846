"""The 2x20 VFD driver's bytes, interpreted by the twin."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path

from appliance.drivers.config import DisplayConfig, SerialSettings
from appliance.drivers.display import VfdDisplay, idle_lines, payment_lines, selling_lines
from appliance.drivers.virtual.display import VirtualDisplay


def _settle(twin: VirtualDisplay, expected: tuple[str, str]) -> tuple[str, ...]:
    deadline = time.monotonic() + 2
    while twin.lines != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return twin.lines


def test_vfd_flow(tmp_path: Path) -> None:
    with VirtualDisplay(tmp_path / "vfd") as twin:
        cfg = DisplayConfig(
            "display", SerialSettings(twin.path), welcome=("Corner Market", "Welcome!")
        )
        vfd = VfdDisplay(cfg)
        vfd.open()
        try:
            idle = idle_lines(cfg.welcome)
            vfd.show(*idle)
            assert _settle(twin, idle) == ("   Corner Market    ", "      Welcome!      ")
            assert twin.received.startswith(b"\x1b@\x1f\x01\x1fC\x00\x0c")  # init, overwrite, clear
            assert b"\x1f$\x01\x01" in twin.received and b"\x1f$\x01\x02" in twin.received

            selling = selling_lines("Coffee beans, single origin", D("22.50"), D("40.40"))
            vfd.show(*selling)
            assert _settle(twin, selling) == ("Coffee beans,  22.50", "TOTAL          40.40")

            paying = payment_lines(D("42.35"), D("2.65"))
            vfd.show(*paying)
            assert _settle(twin, paying) == ("TOTAL          42.35", "CHANGE          2.65")
            vfd.clear()
            assert _settle(twin, (" " * 20, " " * 20)) == (" " * 20, " " * 20)
        finally:
            vfd.close()

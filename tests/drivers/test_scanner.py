"""Serial scanner framing (prefix/suffix) over a pty; the HID backend's missing-dependency path."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.drivers.config import ScannerBackend, ScannerConfig, SerialSettings
from appliance.drivers.errors import DependencyMissingError
from appliance.drivers.scanner import hid_scanner
from appliance.drivers.scanner.codes import Framer
from appliance.drivers.scanner.serial_scanner import SerialScanner
from appliance.drivers.virtual.scanner import VirtualScanner


def test_serial_scanner_delivers_codes(tmp_path: Path) -> None:
    with VirtualScanner(tmp_path / "scanner", prefix="]E0", suffix="\r") as twin:
        scanner = SerialScanner(
            ScannerConfig(
                "scanner",
                ScannerBackend.SERIAL,
                SerialSettings(twin.path, timeout=0.1),
                prefix="]E0",
                suffix="\r",
            )
        )
        scanner.open()
        try:
            twin.scan("4006381333931")
            twin.scan("2012345012340")
            assert scanner.get_code(2) == "4006381333931"
            assert scanner.get_code(2) == "2012345012340"
            seen: list[str] = []
            scanner.set_listener(seen.append)
            twin.scan("96385074")
            import time

            deadline = time.monotonic() + 2
            while not seen and time.monotonic() < deadline:
                time.sleep(0.01)
            assert seen == ["96385074"]
        finally:
            scanner.close()


def test_framer_handles_split_chunks_and_crlf() -> None:
    framer = Framer("", "\r")
    assert framer.feed(b"1234") == []
    assert framer.feed(b"5\r\n678\r") == ["12345", "678"]


@pytest.mark.skipif(hid_scanner.is_usable(), reason="python-evdev is installed here")
def test_hid_without_evdev_says_what_to_install() -> None:
    scanner = hid_scanner.HidScanner(
        ScannerConfig("hid", ScannerBackend.HID, device="/dev/input/event9")
    )
    with pytest.raises(DependencyMissingError, match="pip install evdev"):
        scanner.open()

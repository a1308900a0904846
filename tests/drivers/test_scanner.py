"""Serial scanner framing (prefix/suffix) over a pty; the HID scanner's evdev reading.

The HID scanner reads kernel `struct input_event` records: here they come through a FIFO (no
uinput on CI hosts, so no grab); image/boot-test reads a QEMU USB keyboard with the grab.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest

from appliance.drivers.config import ScannerBackend, ScannerConfig, SerialSettings
from appliance.drivers.errors import DeviceOfflineError
from appliance.drivers.interfaces import Device
from appliance.drivers.scanner.codes import Framer
from appliance.drivers.scanner.evdev_input import EV_KEY, EVENT, KeyDecoder
from appliance.drivers.scanner.hid_scanner import HidScanner
from appliance.drivers.scanner.serial_scanner import SerialScanner
from appliance.drivers.state import DeviceState
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


# KEY_LEFTSHIFT, then codes from linux/input-event-codes.h
SHIFT, ENTER, KP_ENTER = 42, 28, 96
KEYS = {"a": 30, "b": 48, "3": 4, "-": 12, "0": 11, "9": 10}


def key_events(code: int) -> bytes:
    """A key press and release as the kernel writes them, with the SYN reports in between."""
    return b"".join(
        EVENT.pack(1700000000, 0, kind, c, v)
        for kind, c, v in ((4, 4, 0x70004), (EV_KEY, code, 1), (0, 0, 0), (EV_KEY, code, 0))
    )


def typed(text: str, end: int = ENTER) -> bytes:
    out = b""
    for char in text:
        if char.isupper():
            out += EVENT.pack(0, 0, EV_KEY, SHIFT, 1) + key_events(KEYS[char.lower()])
            out += EVENT.pack(0, 0, EV_KEY, SHIFT, 0)
        else:
            out += key_events(KEYS[char])
    return out + key_events(end)


def test_key_decoder_shift_end_keys_and_keypad() -> None:
    decoder = KeyDecoder()
    events = [(SHIFT, 1), (30, 1), (30, 0), (SHIFT, 0), (2, 1), (2, 2), (12, 1), (79, 1)]
    assert [decoder.feed(c, v) for c, v in events] == [None] * len(events)
    assert decoder.feed(KP_ENTER, 1) == "A1-1"
    assert decoder.feed(ENTER, 1) is None  # an empty code is no code


@pytest.fixture
def event_node(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A FIFO standing in for /dev/input/eventN, and its writer end (opened first, read-write,
    so the reader never sees end-of-file until the test closes it: an unplug)."""
    path = tmp_path / "event-kbd"
    os.mkfifo(path)
    writer = os.open(path, os.O_RDWR)
    yield path, writer
    with contextlib.suppress(OSError):
        os.close(writer)


def test_hid_scanner_reads_codes_and_goes_offline_when_unplugged(event_node) -> None:  # type: ignore[no-untyped-def]
    path, writer = event_node
    scanner = HidScanner(ScannerConfig("hid", ScannerBackend.HID, device=str(path), grab=False))
    scanner.open()
    try:
        assert scanner.status.state is DeviceState.ONLINE
        data = typed("Ab3-") + typed("0099", end=KP_ENTER)
        os.write(writer, data[:37])  # records split across reads
        time.sleep(0.05)
        os.write(writer, data[37:])
        assert scanner.get_code(2) == "Ab3-"
        assert scanner.get_code(2) == "0099"
        os.close(writer)  # the device goes away
        deadline = time.monotonic() + 3
        while _state(scanner) is DeviceState.ONLINE and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _state(scanner) is DeviceState.OFFLINE
        assert "went away" in scanner.status.status.error
    finally:
        scanner.close()


def test_hid_scanner_that_cannot_be_grabbed_is_offline_with_the_reason(event_node) -> None:  # type: ignore[no-untyped-def]
    path, _writer = event_node
    scanner = HidScanner(ScannerConfig("hid", ScannerBackend.HID, device=str(path)))
    with pytest.raises(DeviceOfflineError, match="cannot grab"):
        scanner.open()
    assert scanner.status.state is DeviceState.OFFLINE
    missing = HidScanner(ScannerConfig("hid", ScannerBackend.HID, device=str(path) + "-gone"))
    with pytest.raises(DeviceOfflineError):
        missing.open()


def _state(device: Device) -> DeviceState:
    # Read anew each time: a driver thread changes it (a narrowed attribute would not be).
    return device.status.state

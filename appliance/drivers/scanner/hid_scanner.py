"""A USB HID scanner read through evdev, grabbed exclusively so its keys never reach the TUI.

python-evdev is optional (it needs kernel headers to build): `is_usable()` says whether it is
installed, and opening without it raises `DependencyMissingError` saying what to install.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import threading
from typing import Any

from appliance.drivers.config import ScannerConfig
from appliance.drivers.errors import DependencyMissingError, DeviceOfflineError
from appliance.drivers.interfaces import CodeListener
from appliance.drivers.scanner.codes import CodeSink
from appliance.drivers.state import DeviceState, StatusCell

# US keyboard layout: what a scanner in its factory setting types. Quirks as data.
KEYS = (
    {f"KEY_{c}": c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    | {f"KEY_{d}": d for d in "0123456789"}
    | {"KEY_MINUS": "-", "KEY_DOT": ".", "KEY_SLASH": "/", "KEY_SPACE": " ", "KEY_EQUAL": "="}
)
SHIFTED = {"-": "_", "=": "+", "/": "?", ".": ">"} | {str(d): ")!@#$%^&*("[d] for d in range(10)}
END_KEYS = {"KEY_ENTER", "KEY_KPENTER", "KEY_TAB"}
SHIFT_KEYS = {"KEY_LEFTSHIFT", "KEY_RIGHTSHIFT"}
KEY_DOWN = 1


def is_usable() -> bool:
    return importlib.util.find_spec("evdev") is not None


class HidScanner:
    kind = "scanner"

    def __init__(self, config: ScannerConfig) -> None:
        self.name = config.name
        self.path = config.device
        self.grab = config.grab
        self._status = StatusCell(config.name, self.kind)
        self._sink = CodeSink()
        self._device: Any = None
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def status(self) -> StatusCell:
        return self._status

    def set_listener(self, listener: CodeListener | None) -> None:
        self._sink.set_listener(listener)

    def get_code(self, timeout: float | None = None) -> str | None:
        return self._sink.get_code(timeout)

    def open(self) -> None:
        if not is_usable():
            self._status.set(DeviceState.ERROR, "python-evdev is not installed")
            raise DependencyMissingError(
                self.name, "the hid backend needs python-evdev: pip install evdev"
            )
        evdev = importlib.import_module("evdev")
        self.close()
        try:
            device = evdev.InputDevice(self.path)
            if self.grab:
                device.grab()  # exclusive: the console (and the TUI) no longer see its keys
        except OSError as exc:
            self._status.set(DeviceState.OFFLINE, str(exc))
            raise DeviceOfflineError(self.name, exc) from exc
        self._device = device
        self._stop = stop = threading.Event()
        self._reader = threading.Thread(
            target=self._read, args=(device, evdev, stop), name=f"scanner-{self.name}", daemon=True
        )
        self._reader.start()
        self._status.set(DeviceState.ONLINE)

    def probe(self) -> None:
        if self._device is None:
            raise DeviceOfflineError(self.name)

    def close(self) -> None:
        self._stop.set()
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(OSError):  # already unplugged
                device.close()

    def _read(self, device: Any, evdev: Any, stop: threading.Event) -> None:
        chars: list[str] = []
        shift = False
        try:
            for event in device.read_loop():
                if stop.is_set():
                    return
                if event.type != evdev.ecodes.EV_KEY:
                    continue
                key = evdev.ecodes.KEY.get(event.code)
                if key in SHIFT_KEYS:
                    shift = event.value != 0
                elif event.value == KEY_DOWN and key in END_KEYS:
                    if chars:
                        self._sink.deliver("".join(chars))
                    chars = []
                elif event.value == KEY_DOWN and key in KEYS:
                    char = KEYS[key]
                    chars.append(SHIFTED.get(char, char.upper()) if shift else char)
        except OSError as exc:
            if not stop.is_set():
                self._device = None
                self._status.set(DeviceState.OFFLINE, str(exc))

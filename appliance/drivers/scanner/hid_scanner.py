"""A USB HID scanner read through evdev, grabbed exclusively so its keys never reach the TUI."""

from __future__ import annotations

import threading

from appliance.drivers.config import ScannerConfig
from appliance.drivers.errors import DeviceOfflineError
from appliance.drivers.interfaces import CodeListener
from appliance.drivers.scanner.codes import CodeSink
from appliance.drivers.scanner.evdev_input import InputDevice, KeyDecoder
from appliance.drivers.state import DeviceState, StatusCell


class HidScanner:
    kind = "scanner"

    def __init__(self, config: ScannerConfig) -> None:
        self.name = config.name
        self.path = config.device
        self.grab = config.grab
        self._status = StatusCell(config.name, self.kind)
        self._sink = CodeSink()
        self._device: InputDevice | None = None
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
        self.close()
        try:
            device = InputDevice(self.path)
        except OSError as exc:
            self._status.set(DeviceState.OFFLINE, str(exc))
            raise DeviceOfflineError(self.name, exc) from exc
        if self.grab:
            try:
                device.grab()  # exclusive: the console (and the TUI) no longer see its keys
            except OSError as exc:
                device.close()
                self._status.set(DeviceState.OFFLINE, str(exc))
                raise DeviceOfflineError(self.name, exc) from exc
        self._device = device
        self._stop = stop = threading.Event()
        self._reader = threading.Thread(
            target=self._read, args=(device, stop), name=f"scanner-{self.name}", daemon=True
        )
        self._reader.start()
        self._status.set(DeviceState.ONLINE)

    def probe(self) -> None:
        if self._device is None:
            raise DeviceOfflineError(self.name)

    def close(self) -> None:
        self._stop.set()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=2.0)  # it closes the device (and so releases the grab) itself
        self._device = None

    def _read(self, device: InputDevice, stop: threading.Event) -> None:
        decoder = KeyDecoder()
        try:
            for event in device.key_events():
                if stop.is_set():
                    return
                if event is None:
                    continue
                code = decoder.feed(*event)
                if code is not None:
                    self._sink.deliver(code)
        except OSError as exc:
            if not stop.is_set():
                self._device = None
                self._status.set(DeviceState.OFFLINE, str(exc))
        finally:
            device.close()

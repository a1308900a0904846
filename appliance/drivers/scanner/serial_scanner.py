"""A scanner on a serial port (or USB in CDC/serial mode): one reader thread per open port."""

from __future__ import annotations

import threading

import serial

from appliance.drivers.config import ScannerConfig
from appliance.drivers.interfaces import CodeListener
from appliance.drivers.scanner.codes import CodeSink, Framer
from appliance.drivers.serial_port import TRANSPORT_ERRORS, SerialDevice


class SerialScanner(SerialDevice):
    kind = "scanner"

    def __init__(self, config: ScannerConfig) -> None:
        assert config.serial is not None
        super().__init__(config.name, config.serial)
        self._sink = CodeSink()
        self._framer = Framer(config.prefix, config.suffix)
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    def set_listener(self, listener: CodeListener | None) -> None:
        self._sink.set_listener(listener)

    def get_code(self, timeout: float | None = None) -> str | None:
        return self._sink.get_code(timeout)

    def on_open(self) -> None:
        self._framer.reset()
        self._stop = stop = threading.Event()
        port = self.port()
        self._reader = threading.Thread(
            target=self._read, args=(port, stop), name=f"scanner-{self.name}", daemon=True
        )
        self._reader.start()

    def close(self) -> None:
        self._stop.set()
        reader, self._reader = self._reader, None
        super().close()
        if reader is not None and reader is not threading.current_thread():
            reader.join(2 * self.settings.timeout + 1)

    def _read(self, port: serial.Serial, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                # Blocks at most `timeout`, so a close is noticed promptly.
                data = port.read(max(1, port.in_waiting))
            except (*TRANSPORT_ERRORS, TypeError, ValueError) as exc:
                # TypeError/ValueError: the port was closed by `close()` while we were reading.
                if not stop.is_set():
                    with self.lock:
                        self.lost(exc)
                return
            for code in self._framer.feed(data):
                self._sink.deliver(code)

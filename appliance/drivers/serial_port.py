"""A supervised serial port: the shared plumbing of the display, scale, drawer and scanner.

pyserial's `serial_for_url` takes a device path or a URL (`socket://`, `loop://`), so the same
driver talks to a real port, a pty twin or a network serial server. Any transport failure marks
the device OFFLINE, closes the port and raises `DeviceOfflineError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import termios
import threading

import serial

from appliance.drivers.config import SerialSettings
from appliance.drivers.errors import DeviceError, DeviceOfflineError
from appliance.drivers.state import DeviceState, StatusCell

log = logging.getLogger(__name__)

# termios.error: pyserial's tcflush/tcdrain on a port whose device has gone away.
TRANSPORT_ERRORS = (OSError, termios.error, serial.SerialException)


class SerialDevice:
    """Base for serial drivers: owns the port, the lock and the status."""

    kind = "serial"

    def __init__(self, name: str, settings: SerialSettings) -> None:
        self.name = name
        self.settings = settings
        self.lock = threading.RLock()
        self._port: serial.Serial | None = None
        self._status = StatusCell(name, self.kind)

    @property
    def status(self) -> StatusCell:
        return self._status

    def open(self) -> None:
        s = self.settings
        with self.lock:
            self._close_quietly()
            try:
                self._port = serial.serial_for_url(
                    s.port,
                    baudrate=s.baud,
                    bytesize=s.bytesize,
                    parity=s.parity,
                    stopbits=s.stopbits,
                    timeout=s.timeout,
                    write_timeout=s.timeout,
                )
            except TRANSPORT_ERRORS as exc:
                self._status.set(DeviceState.OFFLINE, str(exc))
                raise DeviceOfflineError(self.name, exc) from exc
            self.on_open()
        self._status.set(DeviceState.ONLINE)

    def on_open(self) -> None:
        """Hook: put the device in a known state right after the port opens."""

    def close(self) -> None:
        with self.lock:
            self._close_quietly()

    def probe(self) -> None:
        # A USB-serial adapter's node (and a twin's link) disappears when it is unplugged.
        with self.lock:
            self.port()
            path = self.settings.port
            if path.startswith("/") and not os.path.exists(path):
                raise self.lost(FileNotFoundError(f"{path} is gone"))

    def port(self) -> serial.Serial:
        if self._port is None:
            raise DeviceOfflineError(self.name)
        return self._port

    def write(self, data: bytes) -> None:
        with self.lock:
            port = self.port()
            try:
                port.write(data)
                port.flush()
            except TRANSPORT_ERRORS as exc:
                raise self.lost(exc) from exc

    def lost(self, cause: BaseException) -> DeviceError:
        log.warning("%s %s lost: %s", self.kind, self.name, cause)
        self._close_quietly()
        self._status.set(DeviceState.OFFLINE, str(cause))
        return DeviceOfflineError(self.name, cause)

    def _close_quietly(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(*TRANSPORT_ERRORS):
                port.close()

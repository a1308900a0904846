"""A receipt printer twin: records the ESC/POS stream, answers status requests, decodes.

It answers DLE EOT n as an Epson printer would (fixed bits 0x12, plus drawer/offline flags), so
the driver's probe and drawer-status code run against it unchanged.
"""

from __future__ import annotations

import threading
from pathlib import Path

from appliance.drivers.virtual.escpos_decoder import Printed, as_text, decode
from appliance.drivers.virtual.preview import render_png
from appliance.drivers.virtual.pty_device import PtyDevice

DLE_EOT = b"\x10\x04"
FIXED_BITS = 0x12  # bits 1 and 4 are always set in a DLE EOT answer
DRAWER_PIN3, OFFLINE = 0x04, 0x08


class VirtualPrinter(PtyDevice):
    def __init__(self, link: Path | str, columns: int = 48) -> None:
        super().__init__(link)
        self.columns = columns
        self.received = bytearray()
        self.drawer_sensor_high = False  # what the drawer's switch reports on pin 3
        self.offline = False  # cover open / paper out
        self.answer_status = True
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def on_bytes(self, data: bytes) -> None:
        with self._changed:
            tail = bytes(self.received[-2:])
            self.received += data
            self._changed.notify_all()
        # Answer status requests as they arrive (a request may straddle two chunks).
        window = tail + data
        start = 0
        while (at := window.find(DLE_EOT, start)) >= 0 and at + 2 < len(window):
            if at + 2 >= len(tail) and self.answer_status:
                self.send(bytes([self._status(window[at + 2])]))
            start = at + 3

    def _status(self, n: int) -> int:
        status = FIXED_BITS
        if n == 1 and self.drawer_sensor_high:
            status |= DRAWER_PIN3
        if n in (1, 2) and self.offline:
            status |= OFFLINE
        return status

    def wait_for(self, marker: bytes, timeout: float = 5.0) -> bool:
        """Until `marker` (e.g. the cut command) has arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: marker in self.received, timeout)

    def take(self) -> bytes:
        with self._lock:
            data = bytes(self.received)
            self.received.clear()
            return data

    def printed(self) -> list[Printed]:
        with self._lock:
            return decode(bytes(self.received))

    def text(self) -> str:
        return as_text(self.printed())

    def render_png(self, target: Path | str) -> Path:
        return render_png(self.printed(), self.columns, target)

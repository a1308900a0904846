"""A 2x20 VFD twin: interprets the Epson DM-D commands and shows its two lines."""

from __future__ import annotations

import threading
from pathlib import Path

from appliance.drivers.virtual.pty_device import PtyDevice

ESC, US, FF, VT, CR, LF, BS = 0x1B, 0x1F, 0x0C, 0x0B, 0x0D, 0x0A, 0x08


class VirtualDisplay(PtyDevice):
    def __init__(self, link: Path | str, columns: int = 20, rows: int = 2) -> None:
        super().__init__(link)
        self.columns, self.rows = columns, rows
        self.received = bytearray()
        self._lock = threading.Lock()
        self._pending = b""
        self._screen = [[" "] * columns for _ in range(rows)]
        self._x = self._y = 0
        self.initialized = 0  # how many ESC @ were seen

    @property
    def lines(self) -> tuple[str, ...]:
        with self._lock:
            return tuple("".join(row) for row in self._screen)

    def on_bytes(self, data: bytes) -> None:
        with self._lock:
            self.received += data
            buf = self._pending + data
            i = 0
            while i < len(buf):
                used = self._command(buf, i)
                if used == 0:  # incomplete sequence: wait for more bytes
                    break
                i += used
            self._pending = buf[i:]

    def _command(self, buf: bytes, i: int) -> int:
        b = buf[i]
        need = {ESC: 2, US: 2}.get(b, 1)
        if len(buf) - i < need:
            return 0
        if b == ESC and buf[i + 1] == ord("@"):
            self.initialized += 1
            self._clear()
            return 2
        if b == US:
            op = buf[i + 1]
            if op == ord("$"):
                if len(buf) - i < 4:
                    return 0
                self._x = min(max(buf[i + 2] - 1, 0), self.columns - 1)
                self._y = min(max(buf[i + 3] - 1, 0), self.rows - 1)
                return 4
            if op == ord("C"):
                return 3 if len(buf) - i >= 3 else 0
            return 2  # US MD1..MD3 and friends: modes without arguments
        if b == FF:
            self._clear()
        elif b == VT:
            self._x = self._y = 0
        elif b == CR:
            self._x = 0
        elif b == LF:
            self._y = min(self._y + 1, self.rows - 1)
        elif b == BS:
            self._x = max(self._x - 1, 0)
        elif b >= 0x20:
            self._screen[self._y][self._x] = bytes([b]).decode("cp437")
            # Overwrite mode: the cursor stays on the last column of a full line.
            self._x = min(self._x + 1, self.columns - 1)
        return 1

    def _clear(self) -> None:
        self._screen = [[" "] * self.columns for _ in range(self.rows)]
        self._x = self._y = 0

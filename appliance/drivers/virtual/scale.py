"""A Toledo 8217 scale twin: answers W with the weight or a status byte, zeroes on Z."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from appliance.drivers.virtual.pty_device import PtyDevice

MOTION, OVER_CAPACITY, UNDER_ZERO = 0x01, 0x02, 0x04
# Chosen so the status byte is a printable character ('@' + flags), as on the real scales.
STATUS_BASE = 0x40


class VirtualScale(PtyDevice):
    def __init__(self, link: Path | str, capacity: Decimal = Decimal("15")) -> None:
        super().__init__(link)
        self.capacity = capacity
        self.weight = Decimal(0)  # what is on the platter
        self.motion = False
        self.zero_offset = Decimal(0)
        self.silent = False  # True: ignore polls, like a scale that is switched off
        self.received = bytearray()
        self._lock = threading.Lock()

    def set_weight(self, weight: Decimal | str, *, motion: bool = False) -> None:
        with self._lock:
            self.weight, self.motion = Decimal(weight), motion

    @property
    def net(self) -> Decimal:
        return self.weight - self.zero_offset

    def reply(self) -> bytes:
        with self._lock:
            flags = 0
            if self.motion:
                flags |= MOTION
            if self.net > self.capacity:
                flags |= OVER_CAPACITY
            if self.net < 0:
                flags |= UNDER_ZERO
            if flags:
                return b"\x02?" + bytes([STATUS_BASE | flags]) + b"\r"
            return b"\x02" + f"{self.net:06.3f}".encode() + b"\r"

    def on_bytes(self, data: bytes) -> None:
        self.received += data
        for byte in data:
            if self.silent:
                continue
            if byte == ord("W"):
                self.send(self.reply())
            elif byte == ord("Z"):
                with self._lock:
                    if not self.motion:
                        self.zero_offset = self.weight

"""Mettler-Toledo 8217 ("Toledo") scale protocol, polled, over serial.

The host sends ``W``; the scale answers ``STX <weight> CR`` with the weight as ASCII digits and
a decimal point (``02.345``) when it is stable and valid, else ``STX ? <status> CR``. The status
bits below follow the 8217 reference as reproduced in scale manuals (NCI, Avery, Datalogic); a
model that differs is handled by changing the table, not the code.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation

from appliance.drivers.config import ScaleConfig
from appliance.drivers.errors import (
    DeviceProtocolError,
    NegativeWeightError,
    OverCapacityError,
    ScaleError,
    UnstableWeightError,
)
from appliance.drivers.interfaces import Weight
from appliance.drivers.serial_port import TRANSPORT_ERRORS, SerialDevice

STX, CR = b"\x02", b"\r"
WEIGH, ZERO = b"W", b"Z"

# Status byte bits, in the order they are checked: the first set bit wins.
STATUS_ERRORS: tuple[tuple[int, type[ScaleError]], ...] = (
    (0x02, OverCapacityError),  # bit 1: over capacity
    (0x04, NegativeWeightError),  # bit 2: under zero
    (0x01, UnstableWeightError),  # bit 0: in motion
)
WEIGHT = re.compile(rb"^\x02\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(?:kg|lb|KG|LB|N)?\r$")
STATUS = re.compile(rb"^\x02\?(.)\r$", re.DOTALL)


def parse_reply(device: str, reply: bytes, unit: str) -> Weight:
    """One reply -> a weight, or the specific error the status byte names."""
    if m := WEIGHT.match(reply):
        try:
            return Weight(Decimal(m.group(1).decode()), unit)
        except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
            pass
    if m := STATUS.match(reply):
        status = m.group(1)[0]
        for bit, error in STATUS_ERRORS:
            if status & bit:
                raise error(device)  # type: ignore[call-arg]
        raise DeviceProtocolError(device, f"scale status {status:#04x} without a weight")
    raise DeviceProtocolError(device, f"not a Toledo reply: {reply!r}")


class ToledoScale(SerialDevice):
    kind = "scale"

    def __init__(self, config: ScaleConfig, *, poll_interval: float = 0.1) -> None:
        super().__init__(config.name, config.serial)
        self.unit = config.unit
        self.poll_interval = poll_interval

    def read_weight(self) -> Weight:
        with self.lock:
            port = self.port()
            try:
                port.reset_input_buffer()  # a late reply to an earlier poll is not this weight
                port.write(WEIGH)
                reply = port.read_until(CR, 16)
            except TRANSPORT_ERRORS as exc:
                raise self.lost(exc) from exc
            if not reply:
                raise self.lost(TimeoutError("no answer to W"))
        return parse_reply(self.name, reply, self.unit)

    def read_stable_weight(self, timeout: float = 3.0) -> Weight:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.read_weight()
            except UnstableWeightError:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(self.poll_interval)

    def zero(self) -> None:
        self.write(ZERO)

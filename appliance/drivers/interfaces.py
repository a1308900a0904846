"""One small interface per device kind; the app depends on these, never on a driver class.

Every device can be opened, probed and closed by the `Supervisor` and exposes its `StatusCell`.
Operations raise `DeviceOfflineError` when the device is gone (the driver has already marked
itself OFFLINE, so the supervisor takes over the retrying) and a kind-specific error otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from appliance.drivers.printer.document import Document
    from appliance.drivers.state import StatusCell


@dataclass(frozen=True)
class DrawerOpening:
    """One opening of a cash drawer, told to its ``on_opening`` hook (the till journals it)."""

    device: str
    reason: str
    at: float  # time.time()
    ref: str = ""  # the sale (offline id) it opened for, if any


OpeningHook = Callable[[DrawerOpening], None]


@runtime_checkable
class Device(Protocol):
    name: str  # the config table name, e.g. "printer" for [devices.printer]
    kind: str  # printer, drawer, scanner, display, scale

    @property
    def status(self) -> StatusCell: ...

    def open(self) -> None:
        """Connect; raise `DeviceOfflineError` if the device is not there."""

    def probe(self) -> None:
        """Cheap liveness check while ONLINE; raise `DeviceOfflineError` if it is gone."""

    def close(self) -> None:
        """Release the port; safe to call twice and on a device that never opened."""


class ReceiptPrinter(Device, Protocol):
    columns: int

    def print_document(self, document: Document) -> None: ...

    def kick_drawer(self, pin: int) -> None: ...

    def drawer_sensor(self) -> bool | None:
        """Level of the drawer-kick connector's sensor pin (DLE EOT 1 bit 2), or None."""


class CashDrawer(Device, Protocol):
    def kick(self, reason: str, ref: str = "") -> None:
        """Open the drawer; `reason` is journaled with every opening (sale, no-sale, float),
        with `ref`, the sale it opened for, if any."""

    def is_open(self) -> bool | None:
        """True/False where the hardware reports it, None where it cannot."""


CodeListener = Callable[[str], None]


class Scanner(Device, Protocol):
    def set_listener(self, listener: CodeListener | None) -> None:
        """Codes go to `listener` (called on the scanner's reader thread) or, if None, queued."""

    def get_code(self, timeout: float | None = None) -> str | None: ...


class CustomerDisplay(Device, Protocol):
    width: int  # characters per line

    def show(self, line1: str, line2: str = "") -> None: ...

    def clear(self) -> None: ...


@dataclass(frozen=True)
class Weight:
    value: Decimal
    unit: str  # "kg" or "lb", as the scale is set up
    stable: bool = True


class Scale(Device, Protocol):
    def read_weight(self) -> Weight:
        """One reading; raises `UnstableWeightError`, `OverCapacityError`, `NegativeWeightError`."""

    def read_stable_weight(self, timeout: float = 3.0) -> Weight:
        """Polls until the scale reports a stable weight or `timeout` passes."""

    def zero(self) -> None: ...

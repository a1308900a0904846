"""The counter's view of its devices: one small facade the screens call, whatever is plugged in.

The screens never talk to a driver. They ask this facade to print a receipt, kick the drawer,
show two lines on the customer display or read the scale, and they read each device's state for
the status bar. `DevicePeripherals` (`appliance.drivers.devices`) drives the configured
`[devices.*]`; `StandInPeripherals` is the in-process stand-in for a till without devices and
for tests:
receipts become text files under ``$APPLIANCE_DATA/receipts/``, the drawer and display keep
their last state in memory.

Every call may block (a serial port, a paper-out printer) and may fail with `PeripheralError`;
callers run them in a worker, after the sale is committed, and never undo a sale for them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from appliance.drivers.interfaces import DrawerOpening, OpeningHook
from appliance.drivers.state import DeviceState

if TYPE_CHECKING:
    from appliance.drivers.printer.receipt import ReceiptData, ShiftReport


class PeripheralError(RuntimeError):
    """A device could not do what was asked; the message is for the cashier."""


@dataclass(frozen=True)
class DeviceView:
    name: str
    state: DeviceState
    detail: str = ""
    waiting: int = 0  # documents queued for this device that have not come out yet


@dataclass(frozen=True)
class PrintNotice:
    """Something the cashier must hear about a document already handed to the printer.

    The sale it belongs to is committed whatever happens here: this is only about paper.
    """

    title: str  # the receipt number, or the report's title
    waiting: bool = False  # the printer is offline: it prints by itself when it is back
    failed: bool = False  # the printer refused it: only a reprint brings it
    detail: str = ""

    @property
    def text(self) -> str:
        if self.waiting:
            return f"{self.title} not printed: printer offline. It prints when the printer is back."
        if self.failed:
            return f"{self.title} not printed: {self.detail}. Reprint it (Menu > Reprint)."
        return f"{self.title} printed (the printer is back)."


class Peripherals(Protocol):
    def print_receipt(self, receipt: ReceiptData) -> Path | None:
        """Print; return where a copy was kept (the stand-in's file), if anywhere."""

    def print_report(self, report: ShiftReport) -> Path | None: ...

    def open_drawer(self, reason: str, ref: str = "") -> None:
        """Kick the drawer; the drawer journals the opening (`watch`'s `on_drawer`)."""

    def show_on_display(self, line1: str, line2: str = "") -> None: ...

    def read_weight(self) -> Decimal | None:
        """Kilograms on the scale, or None when there is no scale."""

    def states(self) -> list[DeviceView]: ...

    def watch(
        self,
        on_change: Callable[[], None],
        on_scan: Callable[[str], None] | None = None,
        on_print: Callable[[PrintNotice], None] | None = None,
        on_drawer: OpeningHook | None = None,
    ) -> None:
        """Call `on_change` when a device's state changes, `on_scan` with each code a
        serial/HID scanner reads, `on_print` when a queued document is held up, fails or
        prints after all, and `on_drawer` once per drawer opening; all from a driver's
        thread."""


def report_text(report: ShiftReport, columns: int = 42) -> str:
    """The shift report as it prints, for the screen to show it too."""
    from appliance.drivers.printer.layout import ShiftReportLayout  # noqa: PLC0415 - cold start

    return ShiftReportLayout(columns=columns).render_report(report).as_text()


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text) or "document"


@dataclass
class StandInPeripherals:
    """Devices that live in this process: receipts as text files, drawer and display in memory.

    ``fail_printer`` makes printing fail (for trying out and testing a paper-out printer).
    """

    receipts_dir: Path
    columns: int = 42
    fail_printer: bool = False
    weight: Decimal | None = None
    drawer_openings: list[str] = field(default_factory=list)
    display: tuple[str, str] = ("", "")
    on_drawer: OpeningHook | None = None  # set by `watch`: the till journals each opening
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _write(self, stem: str, text: str) -> Path:
        if self.fail_printer:
            raise PeripheralError("Printer: out of paper or offline")
        self.receipts_dir.mkdir(parents=True, exist_ok=True)
        path = self.receipts_dir / f"{_safe_name(stem)}.txt"
        n = 1
        while path.exists():  # a reprint is a second file, never an overwrite
            n += 1
            path = self.receipts_dir / f"{_safe_name(stem)}-copy{n}.txt"
        path.write_text(text, encoding="utf-8")
        return path

    def print_receipt(self, receipt: ReceiptData) -> Path | None:
        from appliance.drivers.printer.layout import ReceiptLayout  # noqa: PLC0415 - cold start

        document = ReceiptLayout(columns=self.columns).render(receipt)
        with self._lock:
            return self._write(receipt.receipt_no, document.as_text())

    def print_report(self, report: ShiftReport) -> Path | None:
        from appliance.drivers.printer.layout import ShiftReportLayout  # noqa: PLC0415

        document = ShiftReportLayout(columns=self.columns).render_report(report)
        kind = "Z" if report.closing else "X"
        when = report.printed_at.strftime("%Y%m%d-%H%M%S")
        stem = f"{kind}-{report.shift_name or when}"
        with self._lock:
            return self._write(stem, document.as_text())

    def open_drawer(self, reason: str, ref: str = "") -> None:
        with self._lock:
            self.drawer_openings.append(reason)
        if self.on_drawer is not None:  # outside the lock: the hook writes the journal
            self.on_drawer(DrawerOpening("drawer", reason, time.time(), ref))

    def show_on_display(self, line1: str, line2: str = "") -> None:
        with self._lock:
            self.display = (line1[:20], line2[:20])

    def read_weight(self) -> Decimal | None:
        return self.weight

    def watch(
        self,
        on_change: Callable[[], None],
        on_scan: Callable[[str], None] | None = None,
        on_print: Callable[[PrintNotice], None] | None = None,
        on_drawer: OpeningHook | None = None,
    ) -> None:
        """Nothing here changes state by itself (the screen polls `states`), and a failed
        print raises at once; the drawer tells `on_drawer` of each opening."""
        self.on_drawer = on_drawer

    def states(self) -> list[DeviceView]:
        printer = DeviceState.ERROR if self.fail_printer else DeviceState.ONLINE
        return [
            DeviceView("printer", printer, "stand-in: receipts as files"),
            DeviceView("drawer", DeviceState.ONLINE),
            DeviceView("display", DeviceState.ONLINE),
            DeviceView(
                "scale", DeviceState.ONLINE if self.weight is not None else DeviceState.UNKNOWN
            ),
        ]


# What the screens may use of the drivers (the import contracts in pyproject.toml): this
# facade, and the data in its signatures.
__all__ = [
    "DeviceState",
    "DeviceView",
    "DrawerOpening",
    "OpeningHook",
    "PeripheralError",
    "Peripherals",
    "PrintNotice",
    "StandInPeripherals",
    "report_text",
]

"""`Peripherals` on the real drivers: what the till uses when `[devices.*]` is configured.

Built from the validated config (`build_devices`), kept connected by a `Supervisor` thread and,
for the printer, fed through a `PrintQueue`: printing a receipt only enqueues it, so a sale is
never held up by paper or a cable, and a receipt queued while the printer is away prints when
it is back. Device state changes reach the screen through `watch` (the app hops threads with
``call_from_thread``). Display and scale failures never raise: the display is a courtesy, and a
scale that cannot weigh makes the screen ask for a keyed weight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import cast

from appliance.drivers.config import DevicesConfig
from appliance.drivers.drawer import PrinterDrawer, SerialDrawer
from appliance.drivers.errors import DeviceError
from appliance.drivers.interfaces import (
    CashDrawer,
    CustomerDisplay,
    Device,
    OpeningHook,
    Scale,
    Scanner,
)
from appliance.drivers.peripherals import DeviceView, PeripheralError, PrintNotice
from appliance.drivers.printer.document import Document
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.printer.layout import ReceiptLayout, ShiftReportLayout
from appliance.drivers.printer.queue import JobState, PrintJob, PrintQueue
from appliance.drivers.printer.receipt import ReceiptData, ShiftReport
from appliance.drivers.registry import build_devices
from appliance.drivers.state import DeviceState, DeviceStatus
from appliance.drivers.supervisor import Supervisor

log = logging.getLogger(__name__)

LB_TO_KG = Decimal("0.45359237")
UNPRINTED = (JobState.QUEUED, JobState.WAITING)


class PrintWatch:
    """Tells the cashier, once per document, that the printer holds it up or refused it, and
    that a held-up one came out after all."""

    def __init__(
        self,
        on_change: Callable[[], None] | None = None,
        on_print: Callable[[PrintNotice], None] | None = None,
    ) -> None:
        self.on_change = on_change
        self.on_print = on_print
        self._held: set[int] = set()
        self._lock = threading.Lock()

    def _tell(self, notice: PrintNotice) -> None:
        if self.on_change is not None:
            self.on_change()  # the status bar's count of documents waiting
        if self.on_print is not None:
            self.on_print(notice)

    def held_up(self, job: PrintJob) -> None:
        with self._lock:
            if job.id in self._held:
                return
            self._held.add(job.id)
        self._tell(PrintNotice(job.key, waiting=True, detail=job.error))

    def changed(self, job: PrintJob) -> None:
        if job.state is JobState.WAITING:
            self.held_up(job)
            return
        with self._lock:
            was_held = job.id in self._held
            self._held.discard(job.id)
        if job.state is JobState.FAILED:
            self._tell(PrintNotice(job.key, failed=True, detail=job.error))
        elif was_held:
            self._tell(PrintNotice(job.key))
        elif self.on_change is not None:
            self.on_change()


class DevicePeripherals:
    def __init__(
        self,
        config: DevicesConfig,
        *,
        supervisor: Supervisor | None = None,
        on_drawer_opening: OpeningHook | None = None,
        weigh_timeout: float = 3.0,
    ) -> None:
        self.devices: dict[str, Device] = build_devices(config, on_drawer_opening)
        self.supervisor = supervisor or Supervisor()
        for device in self.devices.values():
            self.supervisor.add(device)
        printer = self._first("printer")
        self.printer = printer if isinstance(printer, EscposPrinter) else None
        self.queue = PrintQueue(self.printer) if self.printer is not None else None
        self.drawer = cast(CashDrawer | None, self._first("drawer"))
        self.display = cast(CustomerDisplay | None, self._first("display"))
        self.scale = cast(Scale | None, self._first("scale"))
        self.scanners = [cast(Scanner, d) for d in self.devices.values() if d.kind == "scanner"]
        self.weigh_timeout = weigh_timeout
        self.print_watch = PrintWatch()  # silent until the app `watch`es
        self._lock = threading.Lock()
        self._unsubscribe: list[Callable[[], None]] = []

    def _first(self, kind: str) -> Device | None:
        """The first configured device of `kind` (the config's order)."""
        return next((d for d in self.devices.values() if d.kind == kind), None)

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> DevicePeripherals:
        if self.queue is not None:
            self.queue.start()
        self.supervisor.start()
        return self

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self.queue is not None:
            self.queue.wait_idle(2.0)
            self.queue.stop()
        self.supervisor.stop()

    def wait_online(self, timeout: float = 3.0) -> bool:
        """For start-up and tests: until every device is ONLINE (or `timeout`)."""
        done = threading.Event()

        def check(_: DeviceStatus | None = None) -> None:
            if all(d.status.state is DeviceState.ONLINE for d in self.devices.values()):
                done.set()

        undo = [d.status.subscribe(check) for d in self.devices.values()]
        check()
        try:
            return done.wait(timeout)
        finally:
            for u in undo:
                u()

    def watch(
        self,
        on_change: Callable[[], None],
        on_scan: Callable[[str], None] | None = None,
        on_print: Callable[[PrintNotice], None] | None = None,
        on_drawer: OpeningHook | None = None,
    ) -> None:
        """`on_change` on any device state change; `on_scan` with each serial/HID scan;
        `on_print` when a queued document waits for the printer, fails, or prints after
        waiting; `on_drawer` by each drawer, once per opening (its own `on_opening` hook).
        All are called on driver threads (a drawer's: the thread that kicked it).
        """
        if on_drawer is not None:
            for device in self.devices.values():
                if isinstance(device, PrinterDrawer | SerialDrawer):
                    device.on_opening = on_drawer

        def changed(_: DeviceStatus) -> None:
            on_change()

        for device in self.devices.values():
            self._unsubscribe.append(device.status.subscribe(changed))
        if on_scan is not None:
            for scanner in self.scanners:
                scanner.set_listener(on_scan)
        if self.queue is not None:
            self.print_watch = PrintWatch(on_change, on_print)
            self._unsubscribe.append(self.queue.subscribe(self.print_watch.changed))

    # -- the till's calls -----------------------------------------------------------------------
    def _submit(self, document: Document, key: str) -> None:
        if self.queue is None:
            raise PeripheralError("No receipt printer is configured")
        job = self.queue.submit(document, key)
        log.info("print job %s queued: %s", job.id, key)
        if self.printer is not None and self.printer.status.state is not DeviceState.ONLINE:
            # Behind a job already waiting it stays "queued": say it now, not when it prints.
            self.print_watch.held_up(job)

    def print_receipt(self, receipt: ReceiptData) -> Path | None:
        if self.printer is None:
            raise PeripheralError("No receipt printer is configured")
        layout = ReceiptLayout(columns=self.printer.columns, code=self.printer.symbology)
        self._submit(layout.render(receipt), receipt.receipt_no)
        return None

    def print_report(self, report: ShiftReport) -> Path | None:
        if self.printer is None:
            raise PeripheralError("No receipt printer is configured")
        layout = ShiftReportLayout(columns=self.printer.columns, code=None)
        document = layout.render_report(report)
        self._submit(document, document.title)
        return None

    def open_drawer(self, reason: str, ref: str = "") -> None:
        if self.drawer is None:
            return
        try:
            self.drawer.kick(reason, ref)
        except DeviceError as exc:
            raise PeripheralError(str(exc)) from exc

    def show_on_display(self, line1: str, line2: str = "") -> None:
        if self.display is None:
            return
        try:
            self.display.show(line1, line2)
        except DeviceError as exc:
            log.info("display: %s", exc)

    def read_weight(self) -> Decimal | None:
        if self.scale is None:
            return None
        try:
            weight = self.scale.read_stable_weight(self.weigh_timeout)
        except DeviceError as exc:  # ScaleError (unstable, over capacity...) included
            log.info("scale: %s", exc)
            return None
        return weight.value * LB_TO_KG if weight.unit == "lb" else weight.value

    def states(self) -> list[DeviceView]:
        views = []
        unprinted = 0
        if self.queue is not None:
            unprinted = sum(j.state in UNPRINTED for j in self.queue.jobs())
        for device in self.devices.values():
            status = device.status.status
            waiting = unprinted if device is self.printer else 0
            views.append(DeviceView(device.kind, status.state, status.error, waiting))
        return views

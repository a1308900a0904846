"""Printing never blocks the till; a dead printer is reported and its jobs print when it is back."""

from __future__ import annotations

import time
from datetime import datetime

from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.printer.layout import printer_test_page
from appliance.drivers.printer.queue import JobState, PrintQueue
from appliance.drivers.state import DeviceState
from appliance.drivers.supervisor import Supervisor
from appliance.drivers.virtual.printer import VirtualPrinter
from tests.drivers.conftest import printer_config

CUT = b"\x1dV"


def _wait(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_queue_prints_and_reprints(printer: EscposPrinter, vprinter: VirtualPrinter) -> None:
    page = printer_test_page(48, "printer", datetime(2026, 11, 3), None)
    with PrintQueue(printer) as queue:
        job = queue.submit(page, "T01-000001")
        assert queue.wait_idle()
        assert queue.job(job.id).state is JobState.PRINTED
        assert vprinter.wait_for(CUT)  # the last bytes may still be in the pty
        vprinter.take()
        again = queue.reprint("T01-000001")
        assert queue.wait_idle()
        assert queue.job(again.id).state is JobState.PRINTED
        assert vprinter.wait_for(CUT)
    assert "TEST PAGE" in vprinter.text()


def test_dead_printer_is_reported_not_fatal(vprinter: VirtualPrinter) -> None:
    driver = EscposPrinter(printer_config(vprinter.path))
    page = printer_test_page(48, "printer", datetime(2026, 11, 3), None)
    with Supervisor([driver], first_retry=0.05, probe_interval=0.05), PrintQueue(driver) as queue:
        assert _wait(lambda: driver.status.state is DeviceState.ONLINE)
        vprinter.unplug()
        started = time.monotonic()
        job = queue.submit(page, "T01-000002")
        assert time.monotonic() - started < 0.05  # the sale commit does not wait
        assert _wait(lambda: driver.status.state is DeviceState.OFFLINE)
        assert driver.status.status.error
        assert _wait(lambda: queue.job(job.id).state is JobState.WAITING)
        vprinter.plug()
        assert _wait(lambda: queue.job(job.id).state is JobState.PRINTED)
    assert vprinter.wait_for(CUT)
    assert "TEST PAGE" in vprinter.text()

"""A cashier pressing Enter fast: the next customer comes before the last sale's receipt is out.

The pay screen is gone by the time its drawer, receipt and messages are done. Nothing may then
reach for the gone screen's widgets (that ended the till in `make bench`), and the receipt and
the drawer's journal entry must still happen: they belong to the sale, not to the screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appliance.drivers.peripherals import StandInPeripherals
from appliance.drivers.printer.receipt import ReceiptData
from appliance.store.models import JournalEntry, PosInvoice
from appliance.tui.backend import Backend
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.sell import SellScreen

from .conftest import run_async, start_selling, until, wedge_scan
from .test_day import sell_screen, shelf_barcodes

SALES = 5


@dataclass
class SlowDevices(StandInPeripherals):
    """A cash drawer and a receipt printer that take their time (a kick pulse, a paper feed)."""

    seconds: float = 0.2

    def open_drawer(self, reason: str, ref: str = "") -> None:
        time.sleep(self.seconds)
        super().open_drawer(reason, ref)

    def print_receipt(self, receipt: ReceiptData) -> Path | None:
        time.sleep(self.seconds)
        return super().print_receipt(receipt)


@pytest.fixture
def devices(data_dir: Path) -> StandInPeripherals:
    return SlowDevices(data_dir / "receipts", weight=None)


def count(backend: Backend, query: object) -> int:
    with backend.counter.read() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


@run_async
async def test_enter_pressed_fast_after_each_sale_never_loses_a_receipt(  # type: ignore[no-untyped-def]
    counter, backend: Backend, devices: SlowDevices, data_dir: Path
) -> None:
    codes = shelf_barcodes(backend, SALES)
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        for code in codes:
            await wedge_scan(pilot, code)
            await until(pilot, lambda: len(sell.cart.lines) == 1)
            await pilot.press("f10")
            await until(pilot, lambda: isinstance(app.screen, PayScreen))
            pay = app.screen
            assert isinstance(pay, PayScreen)
            await pilot.press("f7")
            # Enter as fast as the keyboard repeats, from the moment the sale is saved.
            await until(pilot, lambda: pay.result is not None, timeout=5)  # noqa: B023
            assert pay.result is not None and not pay.result.printed
            while not (isinstance(app.screen, SellScreen) and not sell.cart.lines):
                await pilot.press("enter")
            assert app.is_running and app.return_code is None
        # Every receipt comes out and every drawer opening is journaled, screens gone or not.
        receipts = data_dir / "receipts"
        await until(pilot, lambda: len(list(receipts.glob("*.txt"))) == SALES, timeout=10)
        drawer = (
            select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "drawer_open")
        )
        await until(pilot, lambda: count(backend, drawer) == SALES, timeout=10)
        assert len(devices.drawer_openings) == SALES
        assert count(backend, select(func.count()).select_from(PosInvoice)) == SALES
        await pilot.pause(0.5)  # the last after-sale messages land with no screen to land on
        assert app.is_running and app.return_code is None

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
from appliance.tui.screens.dialogs import ChoiceDialog, OverrideDialog
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.price_check import PriceCheckDialog
from appliance.tui.screens.sell import SellScreen

from .conftest import human, run_async, start_selling, until, wedge_scan
from .test_day import sell_screen, shelf_barcodes
from .test_pin_limits import NO_SALE
from .test_sign_in import journal

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


@pytest.mark.parametrize("pin", ["9999", "0000"], ids=["approved", "refused"])
@run_async
async def test_escape_pressed_while_a_supervisor_pin_is_checked_leaves_the_till_running(  # type: ignore[no-untyped-def]
    counter, backend: Backend, pin: str
) -> None:
    """Enter on the PIN, then Esc at once: the PIN's hash takes a while to check, so the answer
    comes for a dialog already closed. Neither dismissing it again nor writing the refusal on it
    may end the app (Textual cancels a dismissed screen's workers; this keeps it so)."""
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press(*["down"] * NO_SALE, "enter")
        await until(pilot, lambda: isinstance(app.screen, OverrideDialog))
        await human(pilot, "float check", gap=0.01)
        await pilot.press("enter")
        await human(pilot, pin, gap=0.01)
        await pilot.press("enter", "escape")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        answered = ("override", "approval_failed")  # the PIN was checked, the dialog gone
        await until(pilot, lambda: any(journal(backend, kind) for kind in answered))
        await pilot.pause(0.3)
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, SellScreen)


@run_async
async def test_escape_pressed_while_a_price_is_checked_leaves_the_till_running(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    (code,) = shelf_barcodes(backend, 1)
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, PriceCheckDialog))
        await human(pilot, code, gap=0)
        await pilot.press("enter", "escape")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        await pilot.pause(0.3)
        assert app.is_running and app.return_code is None

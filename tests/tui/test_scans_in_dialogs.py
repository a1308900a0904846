"""A wedge scan while a dialog is open is refused out loud, never typed into the dialog.

The one place a scan belongs outside the sale is the returns lookup (the receipt's barcode).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from textual.widgets import DataTable, Input

from appliance.counter.door import Counter
from appliance.store.models import JournalEntry
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import PromptDialog
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.returns import ReturnScreen
from appliance.tui.screens.sell import SellScreen
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import notices, run_async, until, wedge_scan
from .test_day import sell_screen, shelf_barcodes


def journal_count(backend: Backend, kind: str) -> int:
    with backend.counter.read() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == kind)
            )
            or 0
        )


@run_async
async def test_a_scan_is_refused_by_dialogs_and_taken_by_the_sale(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    backend.call(Counter.open_shift, "ana@example.com", {"Cash": Decimal(0)})
    code, other = shelf_barcodes(backend, 2)
    async with counter() as (app, pilot):
        # At sign-in: not a PIN typed by nobody (five of those would lock Ana out).
        await wedge_scan(pilot, code)
        sign_in = app.screen
        assert isinstance(sign_in, SignInScreen)
        await until(pilot, lambda: "Sign in first - scan not added" in notices(app))
        assert sign_in.query_one("#pin", Input).value == ""
        assert journal_count(backend, "sign_in_failed") == 0

        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        sell = sell_screen(app)
        await wedge_scan(pilot, code)
        await until(pilot, lambda: len(sell.cart.lines) == 1)

        # The quantity prompt keeps its value; Enter of the scan does not submit it.
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        dialog = app.screen
        answer = dialog.query_one("#answer", Input)
        await wedge_scan(pilot, other)
        refused = "Finish or close this dialog first - scan not added"
        await until(pilot, lambda: refused in notices(app))
        assert app.screen is dialog and answer.value == "1"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is sell)
        assert [line.qty for line in sell.cart.lines] == [Decimal(1)]

        # The tender box stays empty: 13 digits in it would be a cash payment of billions.
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, PayScreen))
        pay = app.screen
        assert isinstance(pay, PayScreen)
        await wedge_scan(pilot, other)
        await until(pilot, lambda: "Finish the payment first - scan not added" in notices(app))
        assert pay.query_one("#amount", Input).value == ""
        assert not pay.cart.payments and pay.result is None
        await pilot.press("f7")
        await until(pilot, lambda: pay.result is not None and pay.result.printed)
        receipt_no = pay.result.receipt_no if pay.result else ""
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is sell and not sell.cart.lines)

        # Returns: the receipt's barcode is what a scan is for.
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ReturnScreen))
        returns = app.screen
        assert isinstance(returns, ReturnScreen)
        await wedge_scan(pilot, receipt_no)
        lines = returns.query_one("#return-lines", DataTable)
        await until(pilot, lambda: lines.row_count == 1)
        assert returns.query_one("#receipt", Input).value == receipt_no

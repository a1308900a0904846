"""Whole-number units in the real app: half a piece cannot be sold or come back."""

from __future__ import annotations

from textual.widgets import Input, Static

from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import PromptDialog
from appliance.tui.screens.returns import ReturnScreen

from .conftest import human, run_async, start_selling, until, wedge_scan
from .test_day import menu, pay, sell_screen, shelf_barcodes


@run_async
async def test_half_a_piece_is_refused_on_the_return_screen(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await wedge_scan(pilot, shelf_barcodes(backend, 1)[0])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        result = (await pay(app, pilot, "f7")).result
        assert result is not None

        await menu(app, pilot, "Return / refund")
        await until(pilot, lambda: isinstance(app.screen, ReturnScreen))
        returns = app.screen
        assert isinstance(returns, ReturnScreen)
        await wedge_scan(pilot, result.receipt_no)
        await until(pilot, lambda: returns.original is not None)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        box = app.screen.query_one(Input)
        box.value = ""
        await human(pilot, "0.5", gap=0.01)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is returns)
        said = str(returns.query_one("#return-message", Static).render())
        assert "is sold in whole Nos: 0.5 is not a whole number" in said, said
        assert not any(returns.back.values())  # nothing chosen to come back

"""At the sell screen, a cashier typing "2L" (or one digit) is offered items and picks one."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from appliance.tui.backend import Backend
from appliance.tui.screens.sell import SellScreen
from appliance.tui.screens.shift import OpenShiftScreen

from .conftest import human, run_async, until
from .test_status_bar import enter_through


@run_async
async def test_two_and_one_character_searches_offer_items(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter() as (app, pilot):
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        await enter_through(app, pilot, OpenShiftScreen)
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        sell = app.screen
        assert isinstance(sell, SellScreen)
        results = sell.query_one("#results", OptionList)

        def offered() -> list[str]:
            options = [results.get_option_at_index(n) for n in range(results.option_count)]
            return [str(o.prompt) for o in options] if results.display else []

        await human(pilot, "7")
        await until(pilot, lambda: bool(offered()))
        assert all("7" in line for line in offered())
        await pilot.press("backspace")
        await human(pilot, "2L")
        await until(pilot, lambda: bool(offered()) and all(" 2L" in o for o in offered()))
        first = sell._results[0]
        await pilot.press("enter")
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        assert sell.cart.lines[0].item_code == first.item_code
        assert sell.query_one("#search", Input).value == ""

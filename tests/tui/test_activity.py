"""The till tells `appliance busy` whether a sale is in progress, so a rollout can wait for it."""

from __future__ import annotations

from pathlib import Path

from appliance.support.activity import TillActivity, read_activity
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog
from appliance.tui.screens.sell import SellScreen
from appliance.tui.screens.shift import OpenShiftScreen

from .conftest import run_async, until, wedge_scan
from .test_day import pay, sell_screen, shelf_barcodes


@run_async
async def test_busy_from_the_first_scan_until_the_sale_is_paid(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    code = shelf_barcodes(backend, 1)[0]
    async with counter() as (app, pilot):
        # As the real till has it (commands.py): written from its own thread.
        app.ctx.activity = TillActivity(data_dir, background=True)
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        while isinstance(app.screen, OpenShiftScreen):
            await pilot.press("enter")
            await pilot.pause(0.1)
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        sell = sell_screen(app)
        assert not read_activity(data_dir).busy

        await wedge_scan(pilot, code)
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        await until(pilot, lambda: read_activity(data_dir).busy)  # a moment later, off-screen
        now = read_activity(data_dir)
        assert now.busy and now.lines == 1 and now.since is not None

        # A parked cart is in the store (a restart recalls it): nothing in progress to wait for.
        await pilot.press("f6")
        await until(pilot, lambda: not sell.cart.lines and len(sell.counter.held) == 1)
        await until(pilot, lambda: not read_activity(data_dir).busy)

        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("enter")
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        await pay(app, pilot, "f7")
        await until(pilot, lambda: not read_activity(data_dir).busy)

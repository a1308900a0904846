"""The status bar follows the cashier at once: sign-in, shift open, lock, unlock, shift close.

The periodic refresh is set to an hour here, so whatever the bar shows came from the change
itself, not from the next poll.
"""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input

from appliance.counter.door import Counter
from appliance.store import sync_state as state
from appliance.tui.backend import Backend
from appliance.tui.screens.sell import SellScreen
from appliance.tui.screens.shift import CloseShiftScreen, OpenShiftScreen, ReportDialog
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import run_async, status_bar, until
from .test_day import menu

SOON = 1.0  # seconds: far below the hour between polls


def says(app: App[None], *parts: str) -> bool:
    line = status_bar(app)
    return all(part in line for part in parts)


async def enter_through(app: App[None], pilot, screen_type: type) -> None:  # type: ignore[no-untyped-def]
    """Enter on each amount (the float or the count: 0.00) until the screen is gone."""
    while isinstance(app.screen, screen_type):
        assert isinstance(app.screen.focused, Input)
        await pilot.press("enter")
        await pilot.pause(0.1)


@run_async
async def test_the_bar_changes_with_the_cashier_not_at_the_next_poll(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter(status_every=3600) as (app, pilot):
        await until(pilot, lambda: says(app, "signed out", "NO SHIFT"), SOON)

        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        await until(pilot, lambda: says(app, " Ana ", "NO SHIFT"), SOON)

        await enter_through(app, pilot, OpenShiftScreen)
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        sell = app.screen
        await until(pilot, lambda: "shift open" in status_bar(app), SOON)

        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await until(pilot, lambda: "Ana LOCKED" in status_bar(app), SOON)
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: app.screen is sell)
        await until(pilot, lambda: status_bar(app).startswith(" Ana │"), SOON)

        await menu(app, pilot, "Close shift (Z report)")
        await until(pilot, lambda: isinstance(app.screen, CloseShiftScreen))
        await enter_through(app, pilot, CloseShiftScreen)
        await until(pilot, lambda: isinstance(app.screen, ReportDialog))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await until(pilot, lambda: says(app, "signed out", "NO SHIFT"), SOON)
    assert not backend.call(Counter.shift_open)


@run_async
async def test_the_bar_names_the_sync_problem(counter, backend: Backend) -> None:  # type: ignore[no-untyped-def]
    """What `appliance status` calls the failure, the cashier sees too (and tells IT)."""
    refused = "request too large: the server refused it (Bad Request: Request Line is too large)"
    state.write_state(backend.counter.write, {"link": "stopped", "last_error": refused})
    async with counter(status_every=0.2) as (app, pilot):
        await until(pilot, lambda: "OFFLINE: request too large " in status_bar(app))
        state.write_state(backend.counter.write, {"link": "up", "last_error": None})
        await until(pilot, lambda: says(app, "online") and "too large" not in status_bar(app))

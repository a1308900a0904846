"""PIN guessing at the real counter app: the till-wide sign-in pause, and wrong PINs in the
supervisor-approval dialog that block the asking cashier but never lock the supervisor out."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from appliance.counter import pin_limits
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog, OverrideDialog
from appliance.tui.screens.sell import MENU, SellScreen
from appliance.tui.screens.shift import OpenShiftScreen
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import human, run_async, until
from .test_sign_in import journal

ANA, BO, CY = 0, 1, 2  # their places on the sign-in list; Bo supervises
NO_SALE = [m[0] for m in MENU].index("No sale (open drawer)")  # its place in the F12 menu


def _store_time(backend: Backend, iso: str) -> str:
    zone = ZoneInfo(backend.counter.checkout.profile.time_zone)
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%H:%M")


async def _choose(pilot: Pilot[None], place: int) -> None:
    """Back from the PIN box to the list of names (if not there), and pick one."""
    if not isinstance(pilot.app.focused, OptionList):
        await pilot.press("shift+tab")
    await pilot.press("home", *["down"] * place, "enter")
    await pilot.pause(0.05)


async def _pin(pilot: Pilot[None], pin: str) -> None:
    await human(pilot, pin, gap=0.01)
    await pilot.press("enter")


def _said(app: object, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


@run_async
async def test_wrong_pins_across_cashiers_pause_sign_in_with_its_end_on_screen(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    guesses = [ANA] * 4 + [CY] * 4 + [BO] * 2  # nobody reaches their own limit of five
    async with counter() as (app, pilot):
        for n, place in enumerate(guesses, 1):
            await _choose(pilot, place)
            await _pin(pilot, "0000")
            await until(pilot, lambda: len(journal(backend, "sign_in_failed")) == n)  # noqa: B023
        (paused,) = journal(backend, "sign_in_paused")
        ends = _store_time(backend, json.loads(paused.data)["until"])
        await until(pilot, lambda: "paused" in _said(app, "#sign-in-message"))
        assert f"until {ends}" in _said(app, "#sign-in-message")

        # The supervisor, with the right PIN, waits like everyone else.
        await _choose(pilot, BO)
        await _pin(pilot, "9999")
        await until(pilot, lambda: len(journal(backend, "sign_in_failed")) == len(guesses) + 1)
        assert isinstance(app.screen, SignInScreen)
        assert f"Sign-in is paused after {pin_limits.TILL_MAX_FAILURES} wrong PINs" in _said(
            app, "#sign-in-message"
        )
    assert not journal(backend, "sign_in")
    assert json.loads(journal(backend, "sign_in_failed")[-1].data)["reason"] == "paused"


@run_async
async def test_a_cashier_guessing_in_the_approval_dialog_cannot_lock_the_supervisor(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter() as (app, pilot):
        await pilot.press("enter")  # Ana, highlighted first
        await _pin(pilot, "1234")
        await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        for _ in range(len(backend.counter.checkout.profile.modes)):
            await pilot.press("enter")
            await pilot.pause(0.1)
        await until(pilot, lambda: isinstance(app.screen, SellScreen))

        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press(*["down"] * NO_SALE, "enter")
        await until(pilot, lambda: isinstance(app.screen, OverrideDialog))
        await human(pilot, "float check", gap=0.01)
        await pilot.press("enter")
        # More wrong PINs than the supervisor's own lock-out allows (five).
        for n in range(1, 7):
            await _pin(pilot, "0000")
            await until(pilot, lambda: len(journal(backend, "approval_failed")) == n)  # noqa: B023
        (block,) = journal(backend, "approval_blocked")
        ends = _store_time(backend, json.loads(block.data)["until"])
        assert "Approvals are paused" in _said(app, "#error")
        assert f"until {ends}" in _said(app, "#error")
        # Now even Bo's right PIN is refused in this dialog...
        await _pin(pilot, "9999")
        await until(pilot, lambda: len(journal(backend, "approval_failed")) == 7)
        assert isinstance(app.screen, OverrideDialog) and not journal(backend, "override")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))

        # ...but Bo himself is not locked: he unlocks the till with his PIN.
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await _choose(pilot, 1)  # the lock screen lists Ana and Bo
        await _pin(pilot, "9999")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
    assert [e.actor for e in journal(backend, "sign_in")][-1] == "bo@example.com"
    assert {e.actor for e in journal(backend, "approval_failed")} == {"ana@example.com"}
    assert not [e for e in journal(backend, "sign_in_failed") if e.actor == "bo@example.com"]

"""Sign-in with PINs, lock-out, lock-down keys, inactivity lock, and a terminal with no data."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from sqlalchemy import select
from textual.widgets import Static

from appliance.config import load_config
from appliance.counter.door import Counter
from appliance.counter.readiness import readiness
from appliance.demo import DEMO_CONFIG
from appliance.store.journal import verify
from appliance.store.models import JournalEntry
from appliance.tui.backend import Backend
from appliance.tui.screens.sell import SellScreen
from appliance.tui.screens.shift import OpenShiftScreen
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import human, run_async, until, wedge_scan


def journal(backend: Backend, kind: str) -> list[JournalEntry]:
    with backend.counter.read() as session:
        return list(
            session.scalars(
                select(JournalEntry).where(JournalEntry.kind == kind).order_by(JournalEntry.seq)
            )
        )


def failures_are(backend: Backend, n: int) -> bool:
    return len(journal(backend, "sign_in_failed")) == n


@run_async
async def test_demo_pins_are_on_the_sign_in_screen(counter) -> None:  # type: ignore[no-untyped-def]
    async with counter() as (app, _pilot):
        assert isinstance(app.screen, SignInScreen)
        pins = str(app.screen.query_one("#demo-pins", Static).render())
        assert "Ana 1234" in pins and "Bo 9999" in pins and "Cy 5678" in pins


@run_async
async def test_five_wrong_pins_lock_the_cashier_and_everything_is_journaled(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter() as (app, pilot):
        await pilot.press("enter")  # Ana
        for n in range(1, 6):
            await human(pilot, "0000", gap=0.01)
            await pilot.press("enter")
            await until(pilot, functools.partial(failures_are, backend, n))
        message = str(app.screen.query_one("#sign-in-message", Static).render())
        assert "locked" in message
        # The right PIN no longer opens the till while the lock lasts.
        await human(pilot, "1234", gap=0.01)
        await pilot.press("enter")
        await until(pilot, lambda: len(journal(backend, "sign_in_failed")) == 6)
        assert isinstance(app.screen, SignInScreen)
        assert not journal(backend, "sign_in")
    failed = [json.loads(e.data) for e in journal(backend, "sign_in_failed")]
    assert [f.get("failures") for f in failed[:5]] == [1, 2, 3, 4, 5]
    assert "locked_until" in failed[4] and failed[5]["reason"] == "locked"
    assert all(e.actor == "ana@example.com" for e in journal(backend, "sign_in_failed"))
    with backend.counter.read() as session:
        assert verify(session).intact


@run_async
async def test_sign_in_opens_the_shift_then_sells(counter, backend: Backend) -> None:  # type: ignore[no-untyped-def]
    async with counter() as (app, pilot):
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        for _ in range(len(backend.counter.checkout.profile.modes)):
            await pilot.press("enter")
            await pilot.pause(0.1)
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
    assert [e.actor for e in journal(backend, "sign_in")] == ["ana@example.com"]
    assert len(journal(backend, "shift_open")) == 1


@run_async
async def test_no_key_combination_leaves_the_app(counter) -> None:  # type: ignore[no-untyped-def]
    async with counter() as (app, pilot):
        for key in ("ctrl+c", "ctrl+q", "ctrl+z", "ctrl+backslash", "ctrl+p", "escape"):
            await pilot.press(key)
            await pilot.pause(0.05)
        assert app.is_running and not app._exit
        assert isinstance(app.screen, SignInScreen)


@run_async
async def test_inactivity_locks_the_till_and_keeps_the_cart(counter, backend: Backend) -> None:  # type: ignore[no-untyped-def]
    backend.call(Counter.open_shift, "bo@example.com", {})
    async with counter(lock_seconds=1.5) as (app, pilot):
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        sell = app.screen
        assert isinstance(sell, SellScreen)
        display = sell.ctx.devices.display  # type: ignore[attr-defined]
        await until(pilot, lambda: display[0].strip() == "Welcome to")
        await wedge_scan(pilot, backend_barcode(backend))
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        # The customer display follows the cart: last line on top, running total below.
        await until(pilot, lambda: sell.ctx.devices.display[1].startswith("TOTAL"))  # type: ignore[attr-defined]
        await until(pilot, lambda: isinstance(app.screen, SignInScreen), timeout=4)
        lock = app.screen
        assert isinstance(lock, SignInScreen) and lock.locked_by is not None
        # Only Ana and the supervisor are offered; Ana unlocks and her sale is still there.
        assert [c.user for c in lock.allowed()] == ["ana@example.com", "bo@example.com"]
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: app.screen is sell)
        assert len(sell.cart.lines) == 1


def backend_barcode(backend: Backend) -> str:
    from appliance.demo.masters import ean13

    return ean13(f"06{10:010d}")


def test_a_new_terminal_says_what_it_needs(tmp_path: Path) -> None:
    cfg = load_config(DEMO_CONFIG)
    state = readiness(tmp_path / "pos.db", cfg)
    assert not state.ready
    text = " ".join(state.needs)
    assert "No database" in text and "appliance sync --once" in text and "appliance demo" in text

"""Cold start: sign-in is up before SQLAlchemy and the store load; a PIN keyed meanwhile waits.

The budget itself (cold start to a usable sign-in <= 1.0 s) is checked by bench/tui_bench.py,
not here; these tests keep what makes it possible.
"""

from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from textual.widgets import OptionList, Static

from appliance.config import load_config
from appliance.counter import auth
from appliance.counter.cashier import read_cashiers
from appliance.demo import DEMO_CONFIG
from appliance.drivers.peripherals import StandInPeripherals
from appliance.store.catalog import StoreNotReadyError
from appliance.store.db import unit_of_work
from appliance.store.models import Cashier
from appliance.tui.app import LockedDownApp, PosApp
from appliance.tui.backend import Backend
from appliance.tui.context import Context
from appliance.tui.screens.shift import OpenShiftScreen
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import SIZE, human, run_async, until

# Loaded only once the sign-in screen is up (or when a device or the demo seed needs them).
LATE = (
    "sqlalchemy",
    "alembic",
    "argon2",
    "escpos",
    "PIL",
    "appliance.store.models",
    "appliance.drivers.printer.receipt",  # with the first receipt or shift report
)


def test_the_sign_in_screen_loads_neither_sqlalchemy_nor_the_store() -> None:
    probe = (
        "import sys, appliance.tui.commands\n"
        f"print(' '.join(m for m in {LATE!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_sign_in_lists_whom_the_store_lists(data_dir: Path, backend: Backend) -> None:
    """`read_cashiers` (sqlite3, at start) and the backend (SQLAlchemy) agree with the model."""
    with unit_of_work(backend.counter.write) as uow:
        cy = uow.session.get(Cashier, "cy@example.com")
        assert cy is not None
        cy.enabled = False
        bo = uow.session.get(Cashier, "bo@example.com")
        assert bo is not None
        bo.max_discount_percentage = Decimal("12.5")
        bo.max_return_amount = Decimal("250.00")
        uow.commit()
    with backend.counter.read() as session:
        by_model = [
            auth.card(row)
            for row in session.scalars(
                select(Cashier).where(Cashier.enabled.is_(True)).order_by(Cashier.full_name)
            )
        ]
        assert auth.list_cashiers(session) == by_model
    assert read_cashiers(data_dir / "pos.db") == by_model
    assert [c.user for c in by_model] == ["ana@example.com", "bo@example.com"]
    assert by_model[1].discount_limit == Decimal("12.5")


class SlowToOpen(Backend):
    """A store that opens only when the test says so."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.may_open = threading.Event()

    def open(self) -> None:
        assert self.may_open.wait(10)
        super().open()


def sign_ins(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT kind, actor FROM journal WHERE kind LIKE 'sign_in%' ORDER BY seq"
        ).fetchall()
    return [(str(kind), str(actor)) for kind, actor in rows]


@run_async
async def test_a_pin_keyed_while_the_store_opens_is_checked_once_it_is_open(
    data_dir: Path, devices: StandInPeripherals
) -> None:
    db = data_dir / "pos.db"
    backend = SlowToOpen(load_config(DEMO_CONFIG), db, cashiers=read_cashiers(db))
    app = PosApp(Context(backend, devices, demo=True))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.2)
            screen = app.screen
            assert isinstance(screen, SignInScreen)
            names = screen.query_one("#cashiers", OptionList)
            assert names.option_count == 3  # listed before the store is open
            await pilot.press("enter")  # Ana
            await human(pilot, "1234", gap=0.01)
            await pilot.press("enter")
            await pilot.pause(0.3)
            message = screen.query_one("#sign-in-message", Static)
            assert "Checking" in str(message.render())
            assert app.screen is screen and sign_ins(db) == []  # waits: not accepted, not lost
            backend.may_open.set()
            await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        assert sign_ins(db) == [("sign_in", "ana@example.com")]
    finally:
        backend.may_open.set()
        backend.close()


class NotReady(Backend):
    def open(self) -> None:
        raise StoreNotReadyError("POS Profile 'Main POS' has no price list")


@run_async
async def test_a_store_that_cannot_open_ends_the_app_and_says_why(
    data_dir: Path, devices: StandInPeripherals
) -> None:
    db = data_dir / "pos.db"
    backend = NotReady(load_config(DEMO_CONFIG), db, cashiers=read_cashiers(db))
    app = PosApp(Context(backend, devices))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: not app.is_running or app._exit)
        assert app.return_code == 1
        assert isinstance(backend.open_error, StoreNotReadyError)
    finally:
        backend.close()


@run_async
async def test_start_up_runs_without_the_cyclic_gc_until_the_first_paint() -> None:
    """`appliance tui` turns the collector off before its imports (cli._tui); the first painted
    frame turns it back on, with what start-up built frozen out of later collections."""
    gc.disable()
    try:
        async with LockedDownApp().run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
    async with LockedDownApp().run_test(size=SIZE) as pilot:  # a collector left on stays on
        await pilot.pause()
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0

"""Held sales live in the store: a till killed with sales parked recalls them after a restart.

The first till runs in a process of its own (the real app, driven by keys) and is killed with
SIGKILL once two sales are held, as a power cut or a crash would; the second till, on the same
SQLite file, recalls both and sells them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from textual.widgets import OptionList

from appliance.store.models import HeldSale, PosInvoice
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import run_async, start_selling, until, wedge_scan
from .test_day import menu, pay, sell_screen, shelf_barcodes

ROOT = Path(__file__).resolve().parents[2]

# The first till: sign in, hold a two-line sale and a one-line sale, say so, wait to be killed.
FIRST_TILL = """
import asyncio, sys
from pathlib import Path
from appliance.config import load_config
from appliance.demo import DEMO_CONFIG
from appliance.tui.app import PosApp
from appliance.tui.backend import open_backend
from appliance.tui.context import Context
from appliance.drivers.peripherals import StandInPeripherals
from tests.tui.conftest import SIZE, start_selling, until, wedge_scan

async def main(db: Path, codes: list[str]) -> None:
    backend = open_backend(load_config(DEMO_CONFIG), db)
    app = PosApp(Context(backend, StandInPeripherals(db.parent / "receipts")))
    async with app.run_test(size=SIZE) as pilot:
        await start_selling(app, pilot)
        sell = app.screen
        for batch in (codes[:2], codes[2:]):
            for code in batch:
                await wedge_scan(pilot, code)
            await until(pilot, lambda: len(sell.cart.lines) == len(batch))
            await pilot.press("f6")
            await until(pilot, lambda: not sell.cart.lines)
        print(len(sell.counter.held), flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(Path(sys.argv[1]), sys.argv[2:]))
"""


def held_rows(backend: Backend) -> int:
    with backend.counter.read() as session:
        return int(session.scalar(select(func.count()).select_from(HeldSale)) or 0)


@run_async
async def test_sales_held_on_a_killed_till_are_recalled_after_the_restart(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    codes = shelf_barcodes(backend, 3)
    first = subprocess.Popen(
        [sys.executable, "-c", FIRST_TILL, str(data_dir / "pos.db"), *codes],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "2"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert held_rows(backend) == 2

    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await until(pilot, lambda: len(sell.counter.held) == 2)
        for expected_lines in (2, 1):
            await pilot.press("f7")
            await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            await pilot.press("enter")  # the oldest first
            await until(pilot, lambda: len(sell.cart.lines) == expected_lines)  # noqa: B023
            assert held_rows(backend) == len(sell.counter.held)
            await pay(app, pilot, "f7")
        assert not sell.counter.held and held_rows(backend) == 0
        with backend.counter.read() as session:
            sold = session.scalars(select(PosInvoice.offline_id)).all()
        assert len(sold) == 2 and len(set(sold)) == 2


@run_async
async def test_holding_writes_the_store_at_once_and_recalling_removes_it(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    code = shelf_barcodes(backend, 1)[0]
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await wedge_scan(pilot, code)
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        held_id = sell.cart.offline_id
        await pilot.press("f6")
        await until(pilot, lambda: not sell.cart.lines)
        assert held_rows(backend) == 1
        with backend.counter.read() as session:
            assert session.scalar(select(HeldSale.offline_id)) == held_id
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("enter")
        await until(pilot, lambda: sell.cart.offline_id == held_id)
        assert held_rows(backend) == 0


@run_async
async def test_a_cashier_signs_out_with_a_sale_held_and_the_next_one_recalls_it(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    code = shelf_barcodes(backend, 1)[0]
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await wedge_scan(pilot, code)
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        held_id = sell.cart.offline_id
        await pilot.press("f6")
        await until(pilot, lambda: not sell.cart.lines)
        await menu(app, pilot, "Sign out")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert held_rows(backend) == 1

        app.screen.query_one("#cashiers", OptionList).focus()  # the next cashier picks a name
        await start_selling(app, pilot, "5678", row=2)  # Cy
        after = sell_screen(app)
        assert after is not sell
        await until(pilot, lambda: len(after.counter.held) == 1)
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("enter")
        await until(pilot, lambda: after.cart.offline_id == held_id)
        assert held_rows(backend) == 0

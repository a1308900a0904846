"""Store credit at the pay screen, through the real app on a till whose config names a
store-credit mode: the customer's balance is shown, a tender above it takes nothing and says the
balance, one within it is taken, and the sale is stored with its store-credit row."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from textual.widgets import Input

from appliance.config import load_config
from appliance.demo import DEMO_CONFIG
from appliance.store.db import unit_of_work
from appliance.store.models import PosInvoice, StoreCreditRow
from appliance.tui.backend import Backend, open_backend

from .conftest import human, run_async, until
from .test_loyalty_points import first_customer, pay_for, screen_text
from .test_save_failures import pay_message

GIFT = "Gift Card"


@pytest.fixture
def backend(data_dir: Path) -> Iterator[Backend]:
    """The demo till, its config naming Gift Card a store-credit mode."""
    config = data_dir / "appliance.toml"
    config.write_text(
        DEMO_CONFIG.read_text().replace(
            'pos_profile = "Main POS"\n',
            f'pos_profile = "Main POS"\nstore_credit_modes = ["{GIFT}"]\n',
        )
    )
    b = open_backend(load_config(config), data_dir / "pos.db")
    yield b
    b.close()


def _given_credit(backend: Backend, amount: D) -> str:
    """What the pull brings: a refund of ``amount`` to the gift card for one customer."""
    counter = backend.counter
    customer = first_customer(backend)
    with unit_of_work(counter.write) as uow:
        uow.session.execute(
            insert(StoreCreditRow),
            [
                {
                    "invoice_type": "POS Invoice",
                    "invoice": "ACC-PSINV-2026-00001",
                    "customer": customer,
                    "mode_of_payment": GIFT,
                    "amount": -amount,
                }
            ],
        )
        uow.commit()
    return customer


@run_async
async def test_store_credit_is_taken_up_to_the_balance(counter, backend: Backend) -> None:  # type: ignore[no-untyped-def]
    customer = _given_credit(backend, D(5))
    async with counter() as (app, pilot):
        pay = await pay_for(app, pilot, backend, customer, lambda p: p.credit is not None)
        assert "Store credit" in screen_text(app) and "5.00" in screen_text(app)
        key = f"f{2 + [m.mode_of_payment for m in pay.modes].index(GIFT)}"

        pay.query_one("#amount", Input).focus()
        await human(pilot, "6")
        await pilot.press(key)
        await until(pilot, lambda: "of store credit" in pay_message(pay))
        assert "has 5.00 of store credit" in pay_message(pay) and not pay.cart.payments

        pay.query_one("#amount", Input).value = ""
        await human(pilot, "5")
        await pilot.press(key)
        await until(pilot, lambda: len(pay.cart.payments) == 1)
        await pilot.press("f7")  # exact cash for the rest
        await until(pilot, lambda: pay.result is not None)
        offline_id = pay.result.offline_id if pay.result else ""

    with backend.counter.read() as session:
        sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == offline_id))
        assert sale is not None
        assert (sale.payments[0].mode_of_payment, sale.payments[0].amount) == (GIFT, D(5))
    after = backend.counter.store_credit(customer)
    assert after is not None and after.available == 0  # this till's own spending counts

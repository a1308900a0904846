"""Loyalty points at the pay screen, through the real app: the customer's points are shown, F10
takes as many as fit (or the number typed) as part payment, cash pays the rest, and the sale is
stored with the points redeemed and earned. Typing more than the customer has takes nothing and
says how many there are."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import select, update
from textual.app import App
from textual.widgets import Input, Static

from appliance.store.db import unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.models import Customer, PosInvoice
from appliance.tui.backend import Backend
from appliance.tui.screens.customer import CustomerDialog
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.sell import SellScreen

from .conftest import human, run_async, until, wedge_scan
from .test_day import shelf_barcodes
from .test_save_failures import pay_message
from .test_screens_snapshot import svg_text


def screen_text(app: App[None]) -> str:
    """The screen as the cashier sees it, as text."""
    return svg_text(app.export_screenshot())


def first_customer(backend: Backend) -> str:
    """A named customer of the demo store (not the walk-in one)."""
    with backend.counter.read() as session:
        customer = session.scalars(
            select(Customer.name).where(Customer.name != "Walk-in Customer").order_by(Customer.name)
        ).first()
    assert customer is not None
    return customer


def _enrol(backend: Backend, points: int) -> str:
    """What a pull brings: the program, the customer's enrolment, an entry with ``points``."""
    counter = backend.counter
    customer = first_customer(backend)
    with unit_of_work(counter.write) as uow:
        apply_masters(
            uow.session,
            [
                {
                    "doctype": "Loyalty Program",
                    "name": "Points",
                    "company": counter.checkout.profile.company,
                    "conversion_factor": 0.01,
                    "expiry_duration": 365,
                    "collection_rules": [
                        {"tier_name": "Base", "min_spent": 0, "collection_factor": 1}
                    ],
                },
                {
                    "doctype": "Loyalty Point Entry",
                    "name": "lpe-1",
                    "customer": customer,
                    "loyalty_program": "Points",
                    "loyalty_points": points,
                    "purchase_amount": points,
                    "expiry_date": "2099-12-31",
                },
            ],
        )
        uow.session.execute(
            update(Customer).where(Customer.name == customer).values(loyalty_program="Points")
        )
        uow.commit()
    return customer


async def pay_for(  # type: ignore[no-untyped-def]
    app, pilot, backend: Backend, customer: str, ready: Callable[[PayScreen], bool]
) -> PayScreen:
    """Sign in, choose ``customer``, scan three items, go to the pay screen and wait until
    ``ready`` (what it loads for the customer is there)."""
    from .conftest import start_selling

    await start_selling(app, pilot)
    sell = app.screen
    assert isinstance(sell, SellScreen)
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(app.screen, CustomerDialog))
    await human(pilot, customer[:8])
    await pilot.pause(0.3)
    await pilot.press("enter")
    await until(
        pilot, lambda: isinstance(app.screen, SellScreen) and sell.cart.customer == customer
    )
    for code in shelf_barcodes(backend, 3):
        await wedge_scan(pilot, code)
    await until(pilot, lambda: len(sell.cart.lines) == 3)
    await pilot.press("f10")
    await until(pilot, lambda: isinstance(app.screen, PayScreen))
    pay = app.screen
    assert isinstance(pay, PayScreen)
    await until(pilot, lambda: ready(pay))
    return pay


@run_async
async def test_points_pay_part_of_the_sale_and_cash_the_rest(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    customer = _enrol(backend, 250)
    async with counter() as (app, pilot):
        pay = await pay_for(app, pilot, backend, customer, lambda p: p.account is not None)
        summary = screen_text(app)
        assert "Points (Points)" in summary and "250 left" in summary, summary
        assert "F10 points" in str(pay.query_one("#pay-keys", Static).render())
        due = pay.cart.amount_due

        pay.query_one("#amount", Input).focus()
        await human(pilot, "251")
        await pilot.press("f10")
        await until(pilot, lambda: "No points were taken" in pay_message(pay))
        assert "has 250 points" in pay_message(pay) and pay.cart.loyalty_points == 0

        pay.query_one("#amount", Input).value = ""
        await pilot.press("f10")  # as many as fit
        await until(pilot, lambda: pay.cart.loyalty_points == 250)
        assert pay.cart.loyalty_amount == D("2.50")
        assert pay.cart.remaining == due - D("2.50")
        assert "250 points" in str(pay.query_one("#pay-lines", Static).render())

        await pilot.press("f7")  # exact cash for the rest
        await until(pilot, lambda: pay.result is not None)
        offline_id = pay.result.offline_id if pay.result else ""
        receipt_no = pay.result.receipt_no if pay.result else ""
        receipt = data_dir / "receipts" / f"{receipt_no}.txt"
        await until(pilot, receipt.exists)

    with backend.counter.read() as session:
        sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == offline_id))
        assert sale is not None
        assert (sale.loyalty_points, sale.loyalty_amount) == (250, D("2.50"))
        assert sale.loyalty_earned == int(sale.grand_total - 2)
        assert [p.amount for p in sale.payments] == [due - D("2.50")]
    printed = receipt.read_text()
    assert "Points redeemed 250" in printed and "-2.50" not in printed and "2.50" in printed
    assert "Points earned" in printed and str(sale.loyalty_earned) in printed, printed
    after = backend.counter.loyalty(customer)
    assert after is not None and after.available == 0  # this till's own redemption counts

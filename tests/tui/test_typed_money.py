"""Money typed at the pay screen, as a tired cashier types it (issue: tender `70,00` recorded
7,000.00 cash and told the cashier to hand back 6,934.40, with no question)."""

from __future__ import annotations

from decimal import Decimal as D

from textual.widgets import Input

from appliance.tui.backend import Backend
from appliance.tui.screens.pay import PayScreen

from .conftest import human, run_async, until
from .test_save_failures import pay_message, to_pay_screen


def _typed(pay: PayScreen) -> Input:
    box = pay.query_one("#amount", Input)
    box.focus()
    return box


@run_async
async def test_a_comma_tender_is_seventy_not_seven_thousand(counter, backend: Backend) -> None:  # type: ignore[no-untyped-def]
    async with counter() as (app, pilot):
        pay = await to_pay_screen(app, pilot, backend)
        due = pay.cart.remaining
        assert due < 70

        _typed(pay).value = ""
        await human(pilot, "1.2.3")
        await pilot.press("enter")
        await until(pilot, lambda: "Nothing was taken" in pay_message(pay))
        assert not pay.cart.payments

        _typed(pay).value = ""
        await human(pilot, "70,00")
        await pilot.press("enter")
        await until(pilot, lambda: pay.result is not None)
        (paid,) = pay.cart.payments
        assert paid.amount == D("70.00")
        assert -pay.cart.remaining == D("70.00") - due  # the change to hand back


@run_async
async def test_a_tender_far_above_the_amount_due_is_confirmed_first(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter() as (app, pilot):
        pay = await to_pay_screen(app, pilot, backend)
        _typed(pay)
        await human(pilot, "7000")
        await pilot.press("enter")
        await until(pilot, lambda: "Enter again to take it" in pay_message(pay))
        assert not pay.cart.payments and pay.result is None
        await pilot.press("enter")  # yes: the customer really handed over 7,000
        await until(pilot, lambda: pay.result is not None)
        assert pay.cart.payments[0].amount == D(7000)

"""From scan to durable sale through the same path the counter screen uses."""

from __future__ import annotations

import json
from decimal import Decimal as D
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from appliance.config import load_config
from appliance.counter.checkout import Checkout, NoOpenShiftError
from appliance.counter.commands import open_checkout
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import ean13
from appliance.sales import cart as carts
from appliance.sales.cart import CartError
from appliance.sales.model import PaymentLine
from appliance.sales.till import Till
from appliance.store.check import check_database
from appliance.store.journal import verify
from appliance.store.models import OutboxEntry, PosInvoice

CASHIER = "ana@example.com"


def _barcode(n: int) -> str:
    return ean13(f"06{n:010d}")


def _paid_cart(checkout: Checkout, *codes: str, cash: D | None = None) -> carts.Cart:
    cart = checkout.new_cart()
    for code in codes:
        cart = checkout.read(partial(_scan, cart, code))
    tender = cash if cash is not None else cart.amount_due
    return carts.add_payment(cart, PaymentLine("Cash", tender, type="Cash"))


def test_selling_needs_an_open_shift(checkout: Checkout) -> None:
    with pytest.raises(NoOpenShiftError, match="Open a shift"):
        checkout.commit(_paid_cart(checkout, _barcode(10)), CASHIER)


def test_a_paid_sale_is_durable_with_its_outbox_and_journal(checkout: Checkout) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(150)})
    cart = _paid_cart(checkout, _barcode(10), _barcode(11), cash=D(500))
    committed = checkout.commit(cart, CASHIER)
    assert committed.receipt_no == "DEMO1-000001"
    assert cart.totals is not None
    with checkout.reading() as session:
        sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == cart.offline_id))
        assert sale is not None
        assert sale.grand_total == cart.totals.grand_total
        assert sale.change_amount == cart.totals.change_amount > 0
        body = json.loads(sale.payload)
        assert body["offline_id"] == cart.offline_id and body["ignore_pricing_rule"] == 1
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.offline_id == cart.offline_id))
        assert entry is not None
        assert check_database(session) == []
        assert verify(session).verdict.value == "intact"


def test_committing_the_same_cart_twice_keeps_one_sale(checkout: Checkout) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    cart = _paid_cart(checkout, _barcode(12))
    first = checkout.commit(cart, CASHIER)
    again = checkout.commit(cart, CASHIER)
    assert again.sale_id == first.sale_id and again.receipt_no == first.receipt_no
    with checkout.reading() as session:
        assert len(session.scalars(select(PosInvoice)).all()) == 1


def test_a_partial_return_refunds_by_the_original_receipt(checkout: Checkout) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    cart = checkout.new_cart()
    cart = checkout.read(lambda till: till.scan(cart, _barcode(20)))
    cart = checkout.read(lambda till: till.set_qty(cart, 1, D(3)))
    cart = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
    sold = checkout.commit(cart, CASHIER)

    original, already = checkout.return_source(sold.receipt_no)
    (line,) = original.lines
    back = checkout.start_return(sold.receipt_no, {line.line_id: D(1)})
    back = carts.add_payment(back, PaymentLine("Cash", back.amount_due, type="Cash"))
    refund = checkout.commit(back, CASHIER)
    assert refund.receipt_no == "DEMO1-000002"
    assert back.totals is not None and back.totals.grand_total < 0

    _, already = checkout.return_source(sold.receipt_no)
    assert already == {line.line_id: D(1)}
    with pytest.raises(CartError, match="at most 2 can be returned"):
        checkout.start_return(sold.receipt_no, {line.line_id: D(3)})
    with pytest.raises(CartError, match="No sale NOPE"):
        checkout.start_return("NOPE", {line.line_id: D(1)})


def test_closing_the_shift_reconciles_cash(checkout: Checkout) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(100), "Credit Card": D(0)})
    cash_sale = _paid_cart(checkout, _barcode(30), cash=D(100))
    checkout.commit(cash_sale, CASHIER)
    assert cash_sale.totals is not None
    taken = cash_sale.totals.paid_amount - cash_sale.totals.change_amount
    report = checkout.close_shift(CASHIER, {"Cash": D(100) + taken - D(1), "Credit Card": D(0)})
    cash = next(m for m in report.modes if m.mode_of_payment == "Cash")
    assert cash.expected_amount == D(100) + taken
    assert cash.difference == D(-1)
    assert checkout.current_shift() is None


def test_a_shift_closed_or_opened_elsewhere_is_noticed_at_the_next_sale(
    checkout: Checkout, data_dir: Path
) -> None:
    # The checkout remembers its open shift between sales; another till process (here a second
    # Checkout on the same file) closing it, or opening the next one, must not be missed.
    first_shift = checkout.open_shift(CASHIER, {"Cash": D(0)})
    assert checkout.commit(_paid_cart(checkout, _barcode(40)), CASHIER).created
    other = open_checkout(load_config(DEMO_CONFIG), data_dir / "pos.db")
    try:
        other.close_shift(CASHIER, {"Cash": D(0)})
        with pytest.raises(NoOpenShiftError, match="Open a shift"):
            checkout.commit(_paid_cart(checkout, _barcode(41)), CASHIER)
        second_shift = other.open_shift(CASHIER, {"Cash": D(0)})
        in_second = _paid_cart(checkout, _barcode(42))
        checkout.commit(in_second, CASHIER)
        # Closed and the next one opened between two sales of this checkout.
        other.close_shift(CASHIER, {"Cash": D(0)})
        third_shift = other.open_shift(CASHIER, {"Cash": D(0)})
    finally:
        other.close()
    in_third = _paid_cart(checkout, _barcode(43))
    checkout.commit(in_third, CASHIER)
    with checkout.reading() as session:
        shift_of = {s.offline_id: s.shift.offline_id for s in session.scalars(select(PosInvoice))}
        assert shift_of[in_second.offline_id] == second_shift != first_shift
        assert shift_of[in_third.offline_id] == third_shift
        assert [s.receipt_no for s in session.scalars(select(PosInvoice))] == [
            "DEMO1-000001",
            "DEMO1-000002",  # the refused sale used no number
            "DEMO1-000003",
        ]
        assert check_database(session) == []


def test_fuel_carries_the_per_litre_carbon_levy(checkout: Checkout) -> None:
    cart = checkout.new_cart()
    cart = checkout.read(lambda till: till.add_item(cart, "SKU-000001", D("40.000")))
    assert cart.totals is not None
    levy = cart.totals.taxes[0]
    assert levy.tax_amount == D("7.04")  # 40 L x 0.1761
    assert cart.totals.taxes[1].total > cart.totals.net_total


def test_an_unknown_barcode_says_what_to_do(checkout: Checkout) -> None:
    with pytest.raises(CartError, match="search for the item by name"):
        checkout.read(lambda till: till.scan(checkout.new_cart(), "4006381333931"))


def _scan(cart: carts.Cart, code: str, till: Till) -> carts.Cart:
    return till.scan(cart, code)

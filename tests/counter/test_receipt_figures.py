"""A printed receipt adds up, names the customer, as ERPNext's own print of the invoice would."""

from __future__ import annotations

from decimal import Decimal as D
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from appliance.counter.checkout import Checkout
from appliance.counter.receipts import ReceiptSource, receipt_for
from appliance.demo.masters import ean13
from appliance.drivers.printer.document import Text
from appliance.drivers.printer.layout import ReceiptLayout
from appliance.sales import cart as carts
from appliance.sales.cart import Cart
from appliance.sales.model import DiscountOn, PaymentLine
from appliance.sales.till import Till
from appliance.store.customers import OfflineCustomer, create_offline_customer
from appliance.store.db import create_db_engine

CASHIER = "ana@example.com"


def _printed(checkout: Checkout, receipt_no: str) -> list[str]:
    with checkout.reading() as session:
        data = receipt_for(session, receipt_no, ReceiptSource.of(checkout.profile, "DEMO1"))
    doc = ReceiptLayout(columns=48).render(data)
    return [op.text for op in doc.ops if isinstance(op, Text)]


def _amount(line: str) -> D:
    return D(line.rsplit(maxsplit=1)[-1].replace(",", ""))


def _scan(cart: Cart, code: str, till: Till) -> Cart:
    return till.scan(cart, code)


def _customer(cart: Cart, name: str, till: Till) -> Cart:
    return till.set_customer(cart, name)


def _sell(checkout: Checkout, on: DiscountOn, amount: D, customer: str | None = None) -> str:
    cart = checkout.new_cart()
    for code in [ean13(f"06{n:010d}") for n in (10, 11, 12)]:
        cart = checkout.read(partial(_scan, cart, code))
    if customer:
        cart = checkout.read(partial(_customer, cart, customer))
    cart = carts.set_cart_discount(cart, amount=amount, on=on)
    cart = carts.add_payment(cart, PaymentLine("Cash", D(500), type="Cash"))
    return checkout.commit(cart, CASHIER).receipt_no


@pytest.mark.parametrize("on", list(DiscountOn))
@pytest.mark.parametrize("amount", [D("0.34"), D("1.01"), D("2.77")])
def test_a_whole_sale_discount_receipt_adds_up(
    checkout: Checkout, on: DiscountOn, amount: D
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    lines = _printed(checkout, _sell(checkout, on, amount))
    start = next(i for i, t in enumerate(lines) if t.startswith("Subtotal"))
    end = next(i for i, t in enumerate(lines) if t.startswith("Total"))
    figures = lines[start:end]
    assert any(t.startswith("Discount") for t in figures), figures
    assert sum((_amount(t) for t in figures), D(0)) == _amount(lines[end]), lines[start : end + 1]
    # ERPNext prints a discount on the grand total after the taxes, one on the net total before.
    names = [t.split()[0] for t in figures]
    if on is DiscountOn.GRAND_TOTAL:
        assert names[-1] == "Discount", figures
    else:
        assert names[1] == "Discount", figures


def test_a_customer_made_at_the_till_prints_by_name(checkout: Checkout, data_dir: Path) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    offline_id = "6f1c2a4e-1b2c-4d5e-8f90-123456789abc"
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        create_offline_customer(
            session,
            OfflineCustomer(offline_id, "Dana Whitfield", CASHIER, {"offline_id": offline_id}),
        )
        session.commit()
    engine.dispose()
    lines = _printed(checkout, _sell(checkout, DiscountOn.GRAND_TOTAL, D("0.50"), offline_id))
    customer = next(t for t in lines if t.startswith("Customer"))
    assert customer.endswith("Dana Whitfield") and offline_id not in "\n".join(lines)

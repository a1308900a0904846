"""Serial numbers and batches at the counter (issue 19 item 6): asked for, checked against what
was pulled for the till's warehouse and what this till sold, sent as both ERPNext versions take
them. Real store, real Checkout, the sale committed to the real outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from appliance.counter import numbers
from appliance.counter.checkout import Checkout
from appliance.demo.masters import (
    BATCH_ITEM,
    BATCHES,
    SERIAL_ITEM,
    SERIALS,
    WAREHOUSE,
    numbered_docs,
)
from appliance.sales import cart as carts
from appliance.sales.cart import Cart, CartError
from appliance.sales.model import PaymentLine
from appliance.store.db import unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.models import PosInvoice
from tests.counter.test_sale_details import sent

CASHIER = "ana@example.com"
TODAY = date(2026, 12, 7)


@pytest.fixture
def numbered(checkout: Checkout) -> Checkout:
    with unit_of_work(checkout._write) as uow:
        apply_masters(uow.session, numbered_docs())
        uow.commit()
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    return checkout


def _add(checkout: Checkout, cart: Cart, code: str) -> Cart:
    return checkout.read(lambda till: till.add_item(cart, code))


def _serial(checkout: Checkout, cart: Cart, typed: str, line: int = -1) -> Cart:
    with checkout.reading() as session:
        return numbers.give_serial(session, WAREHOUSE, cart, cart.lines[line].line_id, typed)


def test_a_serial_item_is_not_sold_without_its_serial_and_each_unit_is_a_line(
    numbered: Checkout,
) -> None:
    cart = _add(numbered, _add(numbered, numbered.new_cart(), SERIAL_ITEM), SERIAL_ITEM)
    assert [line.qty for line in cart.lines] == [1, 1]  # two drills: two lines, two serials
    with pytest.raises(CartError, match="one per line"):
        carts.set_qty(cart, cart.lines[0].line_id, D(2))
    with pytest.raises(CartError, match="unit of this line cannot be changed"):
        numbered.read(lambda till: till.set_uom(cart, cart.lines[0].line_id, "Box"))
    # A case scanned from a case barcode would need as many serials as it holds: refused.
    case = replace(cart, lines=(replace(cart.lines[0], conversion_factor=D(12)),))
    with pytest.raises(CartError, match="sold by the piece"):
        _serial(numbered, case, SERIALS[0], 0)
    paid = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
    with pytest.raises(CartError, match="Cordless Drill needs its serial number"):
        numbered.commit(paid, CASHIER)

    cart = _serial(numbered, _serial(numbered, cart, SERIALS[0], 0), f" {SERIALS[1]} ", 1)
    body = sent(numbered, cart)
    rows = body["items"]
    assert [r["serial_no"] for r in rows] == [SERIALS[0], SERIALS[1]]
    assert all(r["use_serial_batch_fields"] == 1 and "batch_no" not in r for r in rows)


def test_a_wrong_serial_is_refused_with_the_reason(numbered: Checkout) -> None:
    cart = _add(numbered, numbered.new_cart(), SERIAL_ITEM)
    with pytest.raises(CartError, match="not a serial number of Cordless Drill"):
        _serial(numbered, cart, "DRL-9999")
    gone = {"doctype": "Serial No", "item_code": SERIAL_ITEM, "modified": "2026-12-01"}
    with unit_of_work(numbered._write) as uow:
        apply_masters(
            uow.session,
            [
                {**gone, "name": "DRL-GONE", "status": "Delivered", "warehouse": None},
                {**gone, "name": "DRL-AWAY", "status": "Active", "warehouse": "Other - PPC"},
            ],
        )
        uow.commit()
    for serial in ("DRL-GONE", "DRL-AWAY"):
        with pytest.raises(CartError, match="not in this shop's stock"):
            _serial(numbered, cart, serial)
    cart = _serial(numbered, _add(numbered, cart, SERIAL_ITEM), SERIALS[0], 1)
    with pytest.raises(CartError, match="already on this sale"):
        _serial(numbered, cart, SERIALS[0], 0)


def test_a_serial_sold_on_this_till_is_refused_until_it_comes_back(numbered: Checkout) -> None:
    sent(numbered, _serial(numbered, _add(numbered, numbered.new_cart(), SERIAL_ITEM), SERIALS[2]))
    again = _add(numbered, numbered.new_cart(), SERIAL_ITEM)
    with pytest.raises(CartError, match="sold on this till already"):
        _serial(numbered, again, SERIALS[2])


def test_a_batch_item_needs_a_batch_that_is_its_own_and_not_expired(numbered: Checkout) -> None:
    cart = _add(numbered, numbered.new_cart(), BATCH_ITEM)
    line_id = cart.lines[0].line_id
    with numbered.reading() as session:
        assert numbers.batches(session, BATCH_ITEM, TODAY) == BATCHES
        assert numbers.batches(session, BATCH_ITEM, date(2027, 1, 15)) == BATCHES[1:]
        with pytest.raises(CartError, match="expired on 2027-01-01"):
            numbers.give_batch(session, cart, line_id, BATCHES[0], date(2027, 1, 15))
        with pytest.raises(CartError, match="not a batch of Deck Paint"):
            numbers.give_batch(session, cart, line_id, "PNT-OTHER", TODAY)
        paid = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
        with pytest.raises(CartError, match="needs its batch"):
            numbered.commit(paid, CASHIER)
        cart = numbers.give_batch(session, cart, line_id, BATCHES[1], TODAY)
    cart = numbered.read(lambda till: till.set_qty(cart, line_id, D(3)))
    assert cart.lines[0].batch_no == BATCHES[1]  # kept when the line is priced again
    (row,) = sent(numbered, cart)["items"]
    assert (row["batch_no"], row["qty"], row["use_serial_batch_fields"]) == (BATCHES[1], 3, 1)


def test_a_return_gives_the_same_serial_and_batch_back_and_the_serial_sells_again(
    numbered: Checkout,
) -> None:
    cart = _serial(numbered, _add(numbered, numbered.new_cart(), SERIAL_ITEM), SERIALS[4])
    cart = _add(numbered, cart, BATCH_ITEM)
    with numbered.reading() as session:
        cart = numbers.give_batch(session, cart, cart.lines[1].line_id, BATCHES[0], TODAY)
    sent(numbered, cart)
    with numbered.reading() as session:
        receipt = session.scalars(select(PosInvoice.receipt_no)).all()[-1]
    original, _ = numbered.return_source(receipt)
    back = numbered.start_return(receipt, {line.line_id: line.qty for line in original.lines})
    body = sent(numbered, back)
    assert body["is_return"] == 1
    assert [(r.get("serial_no"), r.get("batch_no")) for r in body["items"]] == [
        (SERIALS[4], None),
        (None, BATCHES[0]),
    ]
    assert _serial(numbered, _add(numbered, numbered.new_cart(), SERIAL_ITEM), SERIALS[4])

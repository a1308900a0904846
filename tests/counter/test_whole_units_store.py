"""Whole-number units on the real store: the demo's pieces (Nos) never sell or come back halved."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from appliance.counter.checkout import Checkout
from appliance.demo.masters import ean13
from appliance.sales import cart as carts
from appliance.sales.cart import CartError
from appliance.sales.model import PaymentLine

CASHIER = "ana@example.com"
PIECE = ean13(f"06{10:010d}")  # SKU-000010, sold in Nos


def test_a_piece_is_sold_and_returned_whole(checkout: Checkout) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = checkout.read(lambda till: till.scan(checkout.new_cart(), PIECE))
    line = cart.lines[0]
    with pytest.raises(CartError, match=r"is sold in whole Nos: 1\.2345 is not a whole number"):
        checkout.read(lambda till: till.set_qty(cart, line.line_id, D("1.2345")))
    cart = checkout.read(lambda till: till.set_qty(cart, line.line_id, D(2)))
    cart = carts.add_payment(cart, PaymentLine("Cash", D(500), type="Cash"))
    receipt_no = checkout.commit(cart, CASHIER).receipt_no

    original, _ = checkout.return_source(receipt_no)
    sold = original.lines[0].line_id
    with pytest.raises(CartError, match=r"whole Nos: 0\.5 is not a whole number"):
        checkout.start_return(receipt_no, {sold: D("0.5")})
    assert checkout.start_return(receipt_no, {sold: D(1)}).lines[0].qty == -1

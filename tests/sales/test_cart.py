"""Cart operations as a cashier uses them: each returns a new cart with correct totals."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from appliance.sales.cart import (
    Cart,
    CartError,
    CartLine,
    Counter,
    add_line,
    add_payment,
    hold,
    override_price,
    recall,
    remove_line,
    set_cart_discount,
    set_customer,
    set_line_discount,
    set_qty,
)
from appliance.sales.model import ChargeType, DiscountOn, PaymentLine, TaxLine, TotalsSettings

HST = (TaxLine(ChargeType.ON_NET_TOTAL, "HST 13% - PTC", rate=D(13)),)


def _cart() -> Cart:
    return Cart(settings=TotalsSettings(), taxes=HST)


def _milk(qty: str = "1") -> CartLine:
    return CartLine(0, "MILK", "Milk 2L", D(qty), D("4.99"), uom="Nos")


def test_adding_the_same_item_twice_merges_the_line() -> None:
    cart = add_line(add_line(_cart(), _milk()), _milk())
    assert len(cart.lines) == 1
    assert cart.lines[0].qty == D(2)
    assert cart.totals is not None
    assert cart.totals.total == D("9.98")
    assert cart.totals.taxes[0].tax_amount == D("1.30")
    assert cart.totals.grand_total == D("11.28")
    assert cart.totals.rounded_total == D(11)


def test_the_original_cart_is_untouched() -> None:
    empty = _cart()
    add_line(empty, _milk())
    assert empty.lines == () and empty.totals is None


def test_weighed_lines_never_merge() -> None:
    apples = CartLine(0, "APPLE", "Apples", D("0.412"), D("3.99"), uom="Kg", is_weighed=True)
    cart = add_line(add_line(_cart(), apples), apples)
    assert [x.line_id for x in cart.lines] == [1, 2]


def test_quantity_discount_override_and_remove() -> None:
    cart = add_line(_cart(), _milk())
    cart = set_qty(cart, 1, D(3))
    cart = set_line_discount(cart, 1, D(10))
    assert cart.totals is not None
    assert cart.totals.items[0].rate == D("4.49")  # 4.99 less 10 %, rounded as ERPNext does
    cart = override_price(cart, 1, D("4.00"))
    assert cart.totals is not None
    assert cart.totals.items[0].rate == D("3.60")
    assert remove_line(cart, 1).totals is None


def test_cart_discount_on_grand_total() -> None:
    cart = add_line(_cart(), _milk("2"))
    cart = set_cart_discount(cart, amount=D("1.28"), on=DiscountOn.GRAND_TOTAL)
    assert cart.totals is not None
    assert cart.totals.grand_total == D("10.00")


def test_exempt_customer_drops_the_taxes() -> None:
    cart = add_line(_cart(), _milk())
    cart = set_customer(cart, "Band Council", taxes=(), taxes_and_charges=None)
    assert cart.totals is not None
    assert cart.totals.grand_total == D("4.99")


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (lambda c: set_qty(c, 1, D(0)), "cannot be zero"),
        (lambda c: set_qty(c, 1, D(-1)), "cannot be negative"),
        (lambda c: set_qty(c, 9, D(1)), "Line 9 is not in the cart"),
        (lambda c: set_line_discount(c, 1, D(101)), "percentage from 0 to 100"),
        (lambda c: override_price(c, 1, D(-1)), "cannot be negative"),
        (lambda c: set_cart_discount(c, percentage=D(5), amount=D(1)), "not both"),
        (lambda c: set_cart_discount(c, amount=D(100)), "cannot exceed"),
        (lambda c: add_payment(c, PaymentLine("Cash", D(-5))), "negative payment"),
    ],
)
def test_refused_operations_say_why(operation: object, message: str) -> None:
    cart = add_line(_cart(), _milk())
    with pytest.raises(CartError, match=message):
        operation(cart)  # type: ignore[operator]


def test_paid_in_cash_with_change() -> None:
    cart = add_line(_cart(), _milk("2"))
    assert not cart.is_fully_paid
    cart = add_payment(cart, PaymentLine("Card", D(5), type="Bank"))
    cart = add_payment(cart, PaymentLine("Cash", D(10), type="Cash"))
    assert cart.is_fully_paid
    assert cart.totals is not None
    assert cart.totals.paid_amount == D(15)
    assert cart.totals.change_amount == D(4)


def test_hold_and_recall_several_carts() -> None:
    counter = Counter(active=add_line(_cart(), _milk()))
    counter = hold(counter, "blue jacket", "2026-11-23T10:00:00", _cart())
    counter = Counter(active=add_line(counter.active, _milk("3")), held=counter.held)
    counter = hold(counter, "", "2026-11-23T10:01:00", _cart())
    assert [h.label for h in counter.held] == ["blue jacket", "Held 2"]
    with pytest.raises(CartError, match="Nothing to hold"):
        hold(counter, "x", "t", _cart())
    counter = recall(counter, 0)
    assert counter.active.lines[0].qty == D(1)
    assert [h.label for h in counter.held] == ["Held 2"]

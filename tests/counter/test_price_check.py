"""Price check: an item's price per unit and per quantity break, priced by the cart's own engine."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select

from appliance.counter.checkout import Checkout
from appliance.counter.price_check import PriceCheck, price_check
from appliance.sales.cart import CartError
from appliance.sales.till import Till
from appliance.store.models import Item, ItemBarcode

CASE_OF_CREAM = "0700000000047"  # Light Cream #4 by the Box (12), a Dairy item: 10% off
PRICE_LABEL = "2204011002505"  # PLU 04011 with its price, 2.50, printed on the label


def _check(checkout: Checkout, code: str) -> PriceCheck:
    return checkout.read(lambda till: price_check(till, code))


def _sold(checkout: Checkout, code: str, qty: D, uom: str) -> D:
    """What the cart itself charges for one unit at ``qty``."""

    def rate(till: Till) -> D:
        cart = till.add_item(till.new_cart(), code, qty, uom)
        assert cart.totals is not None
        return cart.totals.items[0].rate

    return checkout.read(rate)


def test_a_case_barcode_shows_the_case_first_then_the_single(checkout: Checkout) -> None:
    check = _check(checkout, CASE_OF_CREAM)
    assert check.item_name == "Light Cream #4" and check.scanned_uom == "Box"
    box, single = check.units
    assert (box.uom, box.conversion_factor) == ("Box", D(12))
    assert single.uom == check.stock_uom and single.conversion_factor == 1
    for unit in (box, single):
        assert unit.promotions == ("Dairy week: 10% off",)
        assert unit.rate == _sold(checkout, check.item_code, D(1), unit.uom)
        assert unit.rate < unit.list_price


def test_a_quantity_break_says_from_how_many(checkout: Checkout) -> None:
    with checkout.reading() as session:
        code = session.scalar(
            select(ItemBarcode.barcode)
            .join(Item, Item.name == ItemBarcode.parent)
            .where(Item.item_group == "Beverages", ItemBarcode.barcode.like("06%"))
            .limit(1)
        )
    assert code is not None
    check = _check(checkout, code)
    (unit,) = [u for u in check.units if u.uom == check.stock_uom]
    assert unit.promotions == () and unit.rate == unit.list_price
    assert [b.min_qty for b in unit.breaks] == [D(6)]
    assert unit.breaks[0].rate == _sold(checkout, check.item_code, D(6), unit.uom)
    assert unit.breaks[0].rate == (unit.list_price * D("0.85")).quantize(D("0.01"))


def test_a_price_label_shows_its_own_price_and_the_items(checkout: Checkout) -> None:
    check = _check(checkout, PRICE_LABEL)
    assert check.label_price == D("2.50") and check.is_weighed
    assert check.units[0].uom == check.stock_uom


def test_an_item_code_works_as_well_as_a_barcode(checkout: Checkout) -> None:
    by_barcode = _check(checkout, CASE_OF_CREAM)
    by_code = _check(checkout, by_barcode.item_code)
    assert by_code.scanned_uom == by_code.stock_uom
    assert {u.uom: u.rate for u in by_code.units} == {u.uom: u.rate for u in by_barcode.units}


def test_nothing_is_added_and_an_unknown_code_says_so(checkout: Checkout) -> None:
    with pytest.raises(CartError, match="Unknown barcode 0000000000000"):
        _check(checkout, "0000000000000")
    with pytest.raises(CartError, match="Scan or type"):
        _check(checkout, "  ")

"""A scale's price label: the line carries the weight the price stands for, and costs the label."""

from __future__ import annotations

import time
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from appliance.sales.barcode import EmbeddedLayout, ScanConfig
from appliance.sales.cart import CartError
from appliance.sales.catalog import (
    ApplyOn,
    Barcode,
    CatalogItem,
    ItemPrice,
    MemoryCatalog,
    PriceOrProduct,
    PricingRule,
    RuleTarget,
)
from appliance.sales.model import TotalsSettings
from appliance.sales.till import Till, TillProfile

PRICE = EmbeddedLayout.from_pattern("22IIIIIPPPPPC")


def _till(rate: D, stock_uom: str = "Kg", uoms: dict[str, D] | None = None) -> Till:
    catalog = MemoryCatalog(
        items=[CatalogItem("STEAK", "Striploin", "Meat", stock_uom, uoms=uoms or {})],
        barcodes=[Barcode("42", "STEAK")],
        prices=[ItemPrice("STEAK", "Std", stock_uom, rate)],
    )
    profile = TillProfile(
        name="Main POS",
        company="PPC",
        currency="CAD",
        price_list="Std",
        warehouse="Stores",
        walk_in_customer="",
        settings=TotalsSettings(),
        scan=ScanConfig(layouts=(PRICE,)),
    )
    return Till(catalog, profile, date(2026, 12, 7))


def test_a_price_label_is_the_weight_at_the_price_per_kg() -> None:
    till = _till(D("12.10"))
    cart = till.scan(till.new_cart(), PRICE.encode("00042", D("4.99")))
    line = cart.lines[0]
    assert (line.qty, line.uom, line.base_rate) == (D("0.412"), "Kg", D("12.10"))
    assert cart.totals is not None
    assert cart.totals.items[0].amount == D("4.99") and cart.totals.grand_total == D("4.99")


def test_an_item_sold_per_piece_keeps_one_piece_at_the_label_price() -> None:
    till = _till(D("3.50"), stock_uom="Nos")
    cart = till.scan(till.new_cart(), PRICE.encode("00042", D("4.99")))
    line = cart.lines[0]
    assert (line.qty, line.uom, line.base_rate) == (D(1), "Nos", D("4.99"))


def test_an_item_with_a_kg_unit_beside_its_pieces_is_sold_by_weight() -> None:
    till = _till(D("2.00"), stock_uom="Nos", uoms={"Kg": D(4)})  # 4 pieces to the kg
    cart = till.scan(till.new_cart(), PRICE.encode("00042", D("6.00")))
    line = cart.lines[0]
    assert (line.uom, line.conversion_factor) == ("Kg", D(4))
    assert line.qty * line.base_rate == D("6.00")


@settings(max_examples=150, deadline=None)
@given(
    price=st.integers(min_value=1, max_value=99_999).map(lambda c: D(c).scaleb(-2)),
    rate=st.integers(min_value=1, max_value=20_000).map(lambda c: D(c).scaleb(-2)),
)
def test_the_line_always_costs_exactly_the_label(price: D, rate: D) -> None:
    assume(price / rate <= 30)  # what a counter scale weighs
    till = _till(rate)
    cart = till.scan(till.new_cart(), PRICE.encode("00042", price))
    assert cart.totals is not None
    assert cart.totals.items[0].amount == price, cart.lines[0]
    assert cart.lines[0].qty > 0


@settings(max_examples=150, deadline=None)
@given(
    grams=st.integers(min_value=1, max_value=30_000),
    rate=st.integers(min_value=1, max_value=20_000).map(lambda c: D(c).scaleb(-2)),
)
def test_a_label_the_scale_printed_keeps_the_shelf_price(grams: int, rate: D) -> None:
    # What a scale set to the till's own price per kg prints: some whole gram gives it back,
    # unless weight x price lands on half a cent (next test).
    exact = D(grams).scaleb(-3) * rate
    price = exact.quantize(D("0.01"), ROUND_HALF_UP)
    assume(D(0) < price < 1000)  # what the label's five price digits hold
    assume((exact * 100) % 1 != D("0.5"))
    till = _till(rate)
    cart = till.scan(till.new_cart(), PRICE.encode("00042", price))
    assert cart.lines[0].base_rate == rate
    assert cart.totals is not None and cart.totals.items[0].amount == price


def test_a_label_on_half_a_cent_costs_the_label_at_a_rate_within_two_percent() -> None:
    # 1.550 kg at 15.50 is 24.025: the scale rounds half up (24.03), ERPNext's rounding gives
    # 24.02, and no whole gram at 15.50 makes 24.03 (1.549: 24.01, 1.551: 24.04). The line
    # still costs the label; the rate moves as little as the 2 % bound finds (found by CI's
    # derandomized run of the property above).
    rate, price = D("15.50"), D("24.03")
    till = _till(rate)
    cart = till.scan(till.new_cart(), PRICE.encode("00042", price))
    line = cart.lines[0]
    assert cart.totals is not None and cart.totals.items[0].amount == price
    assert abs(line.base_rate - rate) <= rate * D("0.02")
    assert abs(line.qty * line.base_rate - price) < D("0.005")


def _in_whole_pieces(name: str, per_kg: D, piece_price: D) -> Till:
    """A till whose PLU 42 is ``name``, stocked in whole pieces, ``per_kg`` to the kilogram."""
    catalog = MemoryCatalog(
        items=[
            CatalogItem(
                "PIECE", name, "Bakery", "Nos", uoms={"Kg": per_kg}, whole_uoms=frozenset({"Nos"})
            )
        ],
        barcodes=[Barcode("42", "PIECE")],
        prices=[ItemPrice("PIECE", "Std", "Nos", piece_price)],
    )
    return Till(catalog, _till(D(1)).profile, date(2026, 12, 7))


def test_a_weight_that_is_no_whole_number_of_pieces_is_refused_with_the_reason() -> None:
    till = _in_whole_pieces("Bun", D(4), D("0.50"))  # 2.00 per kg
    cart = till.scan(till.new_cart(), PRICE.encode("00042", D("1.50")))  # 0.75 kg: 3 buns
    assert (cart.lines[0].qty, cart.lines[0].uom) == (D("0.75"), "Kg")
    with pytest.raises(CartError, match="which is counted in whole numbers"):
        till.scan(till.new_cart(), PRICE.encode("00042", D("1.37")))


def test_a_hostile_label_on_an_item_in_whole_pieces_is_refused_at_once() -> None:
    # A label 999.97 with the PLU of a whole-piece item at 0.001 a piece stands for some
    # 1,000 tonnes: no weight of whole pieces costs it, and the search for one must not hold
    # the till (it took over a minute: its 2 % window grew with the weight).
    till = _in_whole_pieces("Nail", D(1), D("0.001"))
    started = time.monotonic()
    with pytest.raises(CartError, match="Nail"):
        till.scan(till.new_cart(), PRICE.encode("00042", D("999.97")))
    assert time.monotonic() - started < 2


def test_a_label_earns_the_free_items_its_weight_earns_when_keyed() -> None:
    # "Buy 2 kg of steak, get a sauce": a 2.5 kg label earns it at the scan, as 2.5 kg keyed
    # does (it was priced at 1 kg, so the sauce never came, or came for 1 kg on the next scan).
    rule = PricingRule(
        name="PR-STEAK",
        apply_on=ApplyOn.ITEM_CODE,
        currency="CAD",
        items=(RuleTarget("STEAK"),),
        price_or_product_discount=PriceOrProduct.PRODUCT,
        free_item="SAUCE",
        min_qty=D(2),
    )
    catalog = MemoryCatalog(
        items=[
            CatalogItem("STEAK", "Striploin", "Meat", "Kg"),
            CatalogItem("SAUCE", "Sauce", "Meat", "Nos"),
        ],
        barcodes=[Barcode("42", "STEAK")],
        prices=[ItemPrice("STEAK", "Std", "Kg", D("10.00"))],
        pricing_rules=[rule],
    )
    till = Till(catalog, _till(D(1)).profile, date(2026, 12, 7))
    keyed = till.add_item(till.new_cart(), "STEAK", D("2.5"))
    label = till.scan(till.new_cart(), PRICE.encode("00042", D("25.00")))
    assert (
        [(line.item_code, line.qty) for line in label.lines]
        == [(line.item_code, line.qty) for line in keyed.lines]
        == [("STEAK", D("2.5")), ("SAUCE", D(1))]
    )
    assert label.totals is not None and label.totals.items[0].amount == D("25.00")

"""Offers in the engine and in the body sent to ERPNext: free-item rules and coupons
(features/NOTES.md §2, §3; docs/totals.md "Offers")."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from appliance.sales.cart import Cart, CartError
from appliance.sales.catalog import (
    ApplyOn,
    CatalogItem,
    CouponCode,
    ItemPrice,
    MemoryCatalog,
    PriceOrProduct,
    PricingRule,
    RuleTarget,
)
from appliance.sales.payload import InvoiceContext, invoice_payload
from appliance.sales.pricing import PricedLine, free_item, price_line, pricing_context
from appliance.sales.till import Till
from appliance.store.db import make_session_factory
from appliance.store.held import dumps_cart, loads_cart
from tests.sales.offers_golden import recording, ring_up, till_for
from tests.sales.test_till import PROFILE as TILL_PROFILE
from tests.store.factories import migrated_engine

TODAY = datetime(2026, 12, 7).date()
CTX = InvoiceContext(
    company="POS Test Co",
    pos_profile="FX POS",
    currency="CAD",
    selling_price_list="Standard Selling",
    warehouse="Stores - PTC",
    terminal_id="T01",
)
BREAD = CatalogItem("BREAD", "Bread", "Bakery", "Nos")
ROLL = CatalogItem("ROLL", "Roll", "Bakery", "Nos")


def _rule(name: str, **kw: object) -> PricingRule:
    fields: dict[str, object] = {
        "name": name,
        "apply_on": ApplyOn.ITEM_CODE,
        "currency": "CAD",
        "items": (RuleTarget("BREAD"),),
        "price_or_product_discount": PriceOrProduct.PRODUCT,
        "free_item": "ROLL",
    }
    fields.update(kw)
    return PricingRule(**fields)  # type: ignore[arg-type]


def _price(rule: PricingRule, qty: D, coupon: CouponCode | None = None) -> PricedLine:
    catalog = MemoryCatalog(
        items=[BREAD, ROLL],
        prices=[ItemPrice("BREAD", "Standard Selling", "Nos", D("3.00"))],
        pricing_rules=[rule],
        coupons=[coupon] if coupon else [],
    )
    ctx = pricing_context(
        catalog,
        None,
        posting_date=TODAY,
        currency="CAD",
        pos_profile_price_list="Standard Selling",
        coupon=coupon,
    )
    priced = price_line(catalog, ctx, BREAD, "Nos", qty)
    assert isinstance(priced, PricedLine)
    return priced


def _body(cart: Cart, offline_id: str) -> dict[str, Any]:
    """The body the agent would send for ``cart`` (one customer, cashier and moment)."""
    return invoice_payload(
        cart,
        CTX,
        offline_id=offline_id,
        customer="FX Customer",
        posted_at=datetime(2026, 12, 7, 9),
        cashier="ana",
    )


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return make_session_factory(migrated_engine(tmp_path / "pos.db"))()


def test_a_free_item_rule_gives_its_free_qty_once_the_minimum_is_bought() -> None:
    rule = _rule("PR-B2G1", min_qty=D(2), free_qty=D(1))
    assert _price(rule, D(1)).free_items == ()
    line = _price(rule, D(2))
    assert [(f.item_code, f.qty, f.pricing_rule, f.rate) for f in line.free_items] == [
        ("ROLL", D(1), "PR-B2G1", D(0))
    ]
    assert line.pricing_rules == ("PR-B2G1",)
    assert line.discount_percentage == 0  # the bought line keeps its price


def test_a_recursive_rule_gives_per_step_beyond_the_threshold() -> None:
    """ERPNext: free_qty per recurse_for bought beyond apply_recursion_over, whole steps only
    with round_free_qty; otherwise pro rata."""
    rule = _rule("PR-R", free_qty=D(1), is_recursive=True, recurse_for=D(3))
    assert free_item(rule, "BREAD", D(7)) is not None
    assert free_item(rule, "BREAD", D(6)).qty == D(2)  # type: ignore[union-attr]
    rounded = _rule("PR-R", free_qty=D(1), is_recursive=True, recurse_for=D(3), round_free_qty=True)
    assert free_item(rounded, "BREAD", D(8)).qty == D(2)  # type: ignore[union-attr]
    over = _rule(
        "PR-R", free_qty=D(1), is_recursive=True, recurse_for=D(2), apply_recursion_over=D(2)
    )
    assert free_item(over, "BREAD", D(6)).qty == D(2)  # type: ignore[union-attr]
    assert free_item(rounded, "BREAD", D(2)) is None  # 0 whole steps: nothing free


def test_same_item_gives_the_line_s_own_item() -> None:
    rule = _rule("PR-SAME", free_item="", same_item=True, free_qty=D(1), min_qty=D(3))
    assert [f.item_code for f in _price(rule, D(3)).free_items] == ["BREAD"]


def test_a_coupon_rule_applies_only_with_its_coupon() -> None:
    rule = _rule(
        "PR-C",
        price_or_product_discount=PriceOrProduct.PRICE,
        free_item="",
        coupon_code_based=True,
        discount_percentage=D(10),
    )
    assert _price(rule, D(1)).discount_percentage == 0
    coupon = CouponCode("SAVE10", "PR-C", coupon_code="SAVE10", maximum_use=1)
    assert _price(rule, D(1), coupon).discount_percentage == 10
    other = CouponCode("OTHER", "PR-X", coupon_code="OTHER")
    assert _price(rule, D(1), other).pricing_rules == ()


def test_a_typed_printed_code_finds_the_coupon_and_the_body_names_the_document(
    session: Session,
) -> None:
    """FXSAVE10M's printed code is FXSAVEM (derived by ERPNext, surprise 6): the cashier types
    what is printed, the invoice carries the document name, as the accepted sale 233 did."""
    sale = recording("233_v15_coupon_explicit_plr_discount_rate_submit")
    till = till_for(session, sale)
    coupon = till.catalog.coupon("fxsavem")
    assert coupon is not None and coupon.name == "FXSAVE10M"
    cart = ring_up(till, sale)
    body = _body(cart, "o-1")
    assert body["coupon_code"] == sale.request["coupon_code"] == "FXSAVE10M"
    sent = body["items"][0]
    want = sale.request["items"][0]
    fields = ("price_list_rate", "discount_percentage", "rate")
    assert [D(str(sent[f])) for f in fields] == [D(str(want[f])) for f in fields]


def test_the_free_line_is_sent_as_the_accepted_sale_sent_it(session: Session) -> None:
    """307: a free line with is_free_item 1 and the rule's name was kept as sent, not doubled."""
    sale = recording("307_v15_product_rule_client_sends_free_line_submit")
    cart = ring_up(till_for(session, sale), sale)
    body = _body(cart, "o-2")
    fields = ("item_code", "qty", "rate", "is_free_item", "pricing_rules")
    free_sent = [
        {k: row.get(k) for k in fields} for row in body["items"] if row.get("is_free_item")
    ]
    free_recorded = [
        {k: row.get(k) for k in fields} for row in sale.request["items"] if row.get("is_free_item")
    ]
    assert free_sent == free_recorded
    assert "coupon_code" not in body
    assert body["paid_amount"] == sale.request["paid_amount"]


@pytest.mark.parametrize(
    "stem",
    [
        "233_v15_coupon_explicit_plr_discount_rate_submit",
        "307_v15_product_rule_client_sends_free_line_submit",
    ],
)
def test_a_held_sale_keeps_its_coupon_and_free_line(session: Session, stem: str) -> None:
    """Parked and recalled (store/held.py), the sale comes back with its offers intact."""
    cart = ring_up(till_for(session, recording(stem)), recording(stem))
    back = loads_cart(dumps_cart(cart))
    assert back == cart
    assert back.coupon_code == cart.coupon_code
    assert [line.is_free_item for line in back.lines] == [line.is_free_item for line in cart.lines]


def test_a_free_line_follows_the_bought_quantity_and_cannot_be_keyed(session: Session) -> None:
    sale = recording("303_v15_product_rule_draft_two_paid_items")
    till = till_for(session, sale)
    cart = ring_up(till, sale)
    bought, free = cart.lines
    assert free.is_free_item and free.qty == 1
    with pytest.raises(CartError, match="free with promotion PRLE-0003"):
        till.set_qty(cart, free.line_id, D(2))
    fewer = till.set_qty(cart, bought.line_id, D(1))  # below the rule's min_qty 2
    assert [line.is_free_item for line in fewer.lines] == [False]
    more = till.set_qty(fewer, bought.line_id, D(3))
    assert [(line.item_code, line.qty) for line in more.lines if line.is_free_item] == [
        (free.item_code, D(1))
    ]


def _free_rolls(roll: CatalogItem) -> Till:
    rule = _rule("PR-R", free_qty=D(1), is_recursive=True, recurse_for=D(3))
    catalog = MemoryCatalog(
        items=[BREAD, roll],
        prices=[ItemPrice("BREAD", "Std", "Nos", D("3.00"))],
        pricing_rules=[rule],
    )
    return Till(catalog, replace(TILL_PROFILE, taxes_and_charges=""), TODAY)


def test_a_pro_rata_free_quantity_is_kept_to_the_till_s_quantity_places() -> None:
    # 7 bought at 1 free per 3: ERPNext gives 2.333 (its qty precision), not 28 digits.
    till = _free_rolls(ROLL)
    cart = till.add_item(till.new_cart(), "BREAD", D(7))
    assert [(line.item_code, line.qty) for line in cart.lines if line.is_free_item] == [
        ("ROLL", D("2.333"))
    ]


def test_a_fraction_of_a_whole_free_unit_is_refused_before_erpnext_refuses_the_sale() -> None:
    # ERPNext refuses a sale with 2.333 of a unit that must be whole (validate_uom_is_integer),
    # free line or not: the paid sale would be quarantined at sync.
    till = _free_rolls(replace(ROLL, whole_uoms=frozenset({"Nos"})))
    with pytest.raises(CartError, match=r"free with promotion PR-R.*whole Nos"):
        till.add_item(till.new_cart(), "BREAD", D(7))
    six = till.add_item(till.new_cart(), "BREAD", D(6))
    assert [(line.item_code, line.qty) for line in six.lines if line.is_free_item] == [
        ("ROLL", D(2))
    ]
    with pytest.raises(CartError, match="free with promotion PR-R"):
        till.set_qty(six, six.lines[0].line_id, D(7))

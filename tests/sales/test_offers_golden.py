"""Golden carts for offers (issue 19 item 3): what a real ERPNext 15 and 16 made of a sale with a
coupon or a free-item rule, and the till over a real store must make the same, to the cent, with
the same free lines and the same rules named on each line (tests/sales/offers_golden.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from appliance.sales.cart import CartError
from appliance.store.db import make_session_factory
from tests.sales.golden import mismatches
from tests.sales.offers_golden import applied_rules, as_document, recording, ring_up, till_for
from tests.store.factories import migrated_engine

# Sales both servers priced themselves (no ignore_pricing_rule), each with what it shows:
SALES = [
    # FXSAVE10 shares its rule with the newer FXSAVE10M: accepted, no discount (surprise 4).
    "207_v15_coupon_sale_draft_server_computes",
    "208_v16_coupon_sale_draft_server_computes",
    "209_v15_coupon_sale_draft_other_coupon_same_rule",
    "210_v16_coupon_sale_draft_other_coupon_same_rule",
    # One coupon per rule: 10 % off 12.99.
    "223_v15_coupon_sale_draft_server_applies_discount",
    "224_v16_coupon_sale_draft_server_applies_discount",
    # The multi-use coupon on its own rule, narrowed to SKU-00004.
    "233_v15_coupon_explicit_plr_discount_rate_submit",
    "238_v16_coupon_explicit_plr_discount_rate_submit",
    "234_v15_coupon_explicit_rate_only_submit",
    "239_v16_coupon_explicit_rate_only_submit",
    # Buy 2 SKU-00002, get 1 SKU-00003 free.
    "303_v15_product_rule_draft_two_paid_items",
    "304_v16_product_rule_draft_two_paid_items",
    "307_v15_product_rule_client_sends_free_line_submit",
    "311_v16_product_rule_client_sends_free_line_submit",
    "308_v15_product_rule_client_omits_free_line_submit",
    "312_v16_product_rule_client_omits_free_line_submit",
]


@pytest.fixture
def session(tmp_path: Path) -> Session:
    engine = migrated_engine(tmp_path / "pos.db")
    return make_session_factory(engine)()


@pytest.mark.parametrize("stem", SALES)
def test_the_till_prices_an_offer_as_erpnext_did(session: Session, stem: str) -> None:
    sale = recording(stem)
    expected = sale.answer["data"]
    cart = ring_up(till_for(session, sale), sale)
    got = as_document(cart)
    assert mismatches(expected, got) == []
    assert [
        (
            row["item_code"],
            Decimal(str(row["qty"])),
            bool(row["is_free_item"]),
            applied_rules(row["pricing_rules"]),
            Decimal(str(row["discount_percentage"])),
        )
        for row in expected["items"]
    ] == [
        (
            line.item_code,
            line.qty,
            line.is_free_item,
            list(line.pricing_rules),
            result.discount_percentage,
        )
        for line, result in zip(cart.lines, cart.totals.items if cart.totals else (), strict=True)
    ]


def test_the_golden_offers_include_free_items_and_coupons(session: Session) -> None:
    """The set is what item 3 asks for: sales with a free line and sales with a coupon."""
    answers = [recording(s).answer["data"] for s in SALES]
    assert sum(any(i["is_free_item"] for i in a["items"]) for a in answers) >= 6
    assert sum(bool(a.get("coupon_code")) for a in answers) >= 10
    assert {recording(s).version for s in SALES} == {15, 16}


@pytest.mark.parametrize(
    ("stem", "site"),
    [
        (
            "215_v15_coupon_sale_draft_one_coupon_per_rule",
            "209_v15_coupon_sale_draft_other_coupon_same_rule",
        ),
        (
            "217_v16_coupon_sale_draft_one_coupon_per_rule",
            "210_v16_coupon_sale_draft_other_coupon_same_rule",
        ),
    ],
)
def test_two_coupon_rules_with_the_same_criteria_are_refused_as_erpnext_refuses(
    session: Session, stem: str, site: str
) -> None:
    """ERPNext answered 417 MultiplePricingRuleConflict naming both rules (surprise 5): the till
    says so at the scan instead of taking a sale the server would refuse."""
    sale = recording(stem)
    assert sale.meta["status"] == 417
    assert "MultiplePricingRuleConflict" in str(sale.answer.get("exc_type"))
    till = till_for(session, sale, site=recording(site))
    with pytest.raises(CartError, match=r"PRLE-0001.*PRLE-0002|PRLE-0002.*PRLE-0001"):
        ring_up(till, sale)

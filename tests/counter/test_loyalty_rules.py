"""The loyalty figures the till computes itself, against what ERPNext 15 and 16 booked in the
recordings (tests/data/erpnext/features/ §1): the points a sale earns, what redeemed points are
worth, and the body each version needs for a redemption."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from appliance.agent.server_mode import sale_body
from appliance.counter.loyalty import LoyaltyAccount
from appliance.store.sales import POS_INVOICE, SALES_INVOICE

ACCOUNT = LoyaltyAccount(
    customer="FX Loyalty Customer",
    program="FX Points",
    conversion_factor=D("0.01"),
    collection_factor=D(1),
    pulled=319,
    redeemed_here=0,
)


@pytest.mark.parametrize(
    ("grand_total", "redeemed", "earned"),
    [
        (D("29.10"), D(0), 29),  # 109/111
        (D("290.98"), D(0), 290),  # 122: on the grand total, not the rounded 291.00
        (D("14.55"), D("3.00"), 11),  # 122
        (D("14.55"), D("5.00"), 9),  # 133
        (D("14.55"), D("0.10"), 14),  # 707: a redeemed 0.10 takes no whole unit off
    ],
)
def test_points_earned_are_those_erpnext_booked(grand_total: D, redeemed: D, earned: int) -> None:
    assert ACCOUNT.earned(grand_total, redeemed) == earned


def test_redeemed_points_are_worth_points_times_the_conversion_factor() -> None:
    assert ACCOUNT.value(300) == D("3.00")  # 117/118: 300 points paid 3.00
    assert ACCOUNT.value(10) == D("0.10")  # 135/136


def _redemption_body() -> dict[str, object]:
    # As the till stores it for a 15.00 sale, 3.00 of it in points (117-121).
    return {
        "customer": "FX Loyalty Customer",
        "payments": [{"mode_of_payment": "Cash", "account": "Cash - PTC", "amount": 12}],
        "paid_amount": 15,
        "base_paid_amount": 15,
        "redeem_loyalty_points": 1,
        "loyalty_points": 300,
        "loyalty_amount": 3,
        "loyalty_program": "FX Points",
    }


def test_a_pos_invoice_keeps_paid_amount_with_the_points_and_a_sales_invoice_sends_none() -> None:
    v15 = _redemption_body()
    sale_body(v15, POS_INVOICE, lambda mode, company: None)
    assert v15["paid_amount"] == 15  # surprise 2: without it, "Partial Payment ..." (119)
    v16 = _redemption_body()
    sale_body(v16, SALES_INVOICE, lambda mode, company: None)
    assert "paid_amount" not in v16 and "base_paid_amount" not in v16  # 120, 136
    assert v16["loyalty_amount"] == 3 and v16["payments"] == v15["payments"]

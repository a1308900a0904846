"""A typed coupon at the counter: applied, or a plain reason why not (docs/agent.md, "Coupons
on several tills"). Real store, real Checkout, the sale committed to the real outbox."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from typing import Any

from sqlalchemy import select

from appliance.counter.checkout import Checkout
from appliance.counter.offers import (
    APPROVAL_ACTION,
    CouponResult,
    CouponVerdict,
    apply_coupon,
    approval_request,
    remove_coupon,
)
from appliance.demo.masters import ean13
from appliance.sales import cart as carts
from appliance.sales.cart import Cart
from appliance.sales.model import PaymentLine
from appliance.store.db import unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.models import OutboxEntry
from tests.shared import coupon_docs

CASHIER = "ana@example.com"
TODAY = date(2026, 12, 7)


def _offers(checkout: Checkout, *coupons: dict[str, Any]) -> None:
    with unit_of_work(checkout._write) as uow:
        apply_masters(uow.session, coupon_docs(*coupons))
        uow.commit()


def _cart(checkout: Checkout) -> Cart:
    cart = checkout.new_cart()
    return checkout.read(lambda till: till.scan(cart, ean13("06" + "0" * 9 + "1")))


def _apply(checkout: Checkout, cart: Cart, typed: str, **kw: Any) -> CouponResult:
    with checkout.reading() as session:
        return apply_coupon(session, checkout.till, cart, typed, today=TODAY, **kw)


def test_a_multi_use_coupon_typed_by_its_printed_code_takes_10_percent_off(
    checkout: Checkout,
) -> None:
    _offers(checkout, {"name": "SPRING10", "coupon_code": "SPRING", "maximum_use": 5})
    cart = _cart(checkout)
    before = cart.amount_due
    result = _apply(checkout, cart, "spring")
    assert result.verdict is CouponVerdict.APPLIED, result.message
    assert result.cart.coupon_code == "SPRING10"
    assert result.cart.lines[0].discount_percentage == 10
    assert result.cart.amount_due < before
    assert result.uses_left == 5
    assert remove_coupon(checkout.till, result.cart).lines[0].discount_percentage == 0


def test_unknown_expired_and_not_started_coupons_are_refused_with_the_reason(
    checkout: Checkout,
) -> None:
    _offers(
        checkout,
        {"name": "OLD", "coupon_code": "OLD", "valid_upto": "2026-11-30"},
        {"name": "SOON", "coupon_code": "SOON", "valid_from": "2027-01-01"},
    )
    cart = _cart(checkout)
    unknown = _apply(checkout, cart, "NOPE")
    assert unknown.verdict is CouponVerdict.UNKNOWN and "not known" in unknown.message
    old = _apply(checkout, cart, "OLD")
    assert old.verdict is CouponVerdict.EXPIRED and "2026-11-30" in old.message
    soon = _apply(checkout, cart, "SOON")
    assert soon.verdict is CouponVerdict.NOT_STARTED and "2027-01-01" in soon.message
    for refused in (unknown, old, soon):
        assert refused.cart is cart  # nothing changed


def test_a_coupon_sharing_its_rule_with_a_newer_one_says_it_gives_no_discount(
    checkout: Checkout,
) -> None:
    _offers(
        checkout,
        {"name": "FIRST", "coupon_code": "FIRST", "maximum_use": 0},
        {"name": "SECOND", "coupon_code": "SECOND", "maximum_use": 0},
    )
    result = _apply(checkout, _cart(checkout), "FIRST")
    assert result.verdict is CouponVerdict.NO_DISCOUNT
    assert "only coupon SECOND" in result.message


def test_a_single_use_coupon_needs_a_supervisor_offline_and_is_used_up_once_sold(
    checkout: Checkout,
) -> None:
    """The two-tills policy: this till cannot know whether another took the only use."""
    _offers(checkout, {"name": "FXSAVE10", "coupon_code": "FXSAVE10", "maximum_use": 1})
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = _cart(checkout)
    asked = _apply(checkout, cart, "FXSAVE10")
    assert asked.verdict is CouponVerdict.NEEDS_APPROVAL
    assert "cannot be checked offline" in asked.message and "supervisor" in asked.message
    assert asked.coupon is not None
    request = approval_request(CASHIER, asked.coupon)
    assert request.action == APPROVAL_ACTION and request.detail["coupon"] == "FXSAVE10"

    taken = _apply(checkout, cart, "FXSAVE10", approved_by="sam@example.com")
    assert taken.verdict is CouponVerdict.APPLIED
    paid = carts.add_payment(taken.cart, PaymentLine("Cash", taken.cart.amount_due, type="Cash"))
    checkout.commit(paid, CASHIER)
    with checkout.reading() as session:
        body = json.loads(session.scalars(select(OutboxEntry.payload)).all()[-1])
    assert body["coupon_code"] == "FXSAVE10"
    assert "approved by sam@example.com" in body["remarks"]

    again = _apply(checkout, _cart(checkout), "FXSAVE10", approved_by="sam@example.com")
    assert again.verdict is CouponVerdict.USED_UP and again.uses_left == 0

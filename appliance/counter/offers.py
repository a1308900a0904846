"""A typed coupon on the sale: checked as far as this till can, and said plainly when it cannot.

ERPNext checks a coupon when the sale reaches it (validity against the server's own date, and
``used`` against ``maximum_use``), and counts the use when the invoice is submitted. A till
offline knows the count as last pulled plus its own sales not yet sent; another till may have
used the coupon since. So the last use a coupon has left (a single-use coupon's only use) cannot
be checked offline: it is taken only with a supervisor's approval, and ERPNext may still refuse
it at sync (docs/agent.md, "Coupons on several tills"). The screen shows the message and asks
for the approval (``auth.approve`` with :func:`approval_request`), then calls again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.counter.cashier import ApprovalRequest
from appliance.sales.cart import Cart, CartError
from appliance.sales.catalog import CouponCode
from appliance.sales.pricing import coupon_rule
from appliance.sales.till import Till
from appliance.store.models import OutboxEntry, OutboxState

APPROVAL_ACTION = "coupon_last_use"


class CouponVerdict(StrEnum):
    APPLIED = "applied"
    UNKNOWN = "unknown"  # no such coupon on this till
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    USED_UP = "used_up"  # as far as this till knows
    NEEDS_APPROVAL = "needs_approval"  # its last use cannot be checked offline
    NO_DISCOUNT = "no_discount"  # its rule is gone here, or ERPNext honours another coupon


@dataclass(frozen=True)
class CouponResult:
    """``cart`` carries the coupon only when ``verdict`` is APPLIED; otherwise it is the cart
    as it was. ``uses_left`` is what this till can count (None: no limit)."""

    verdict: CouponVerdict
    message: str
    cart: Cart
    coupon: CouponCode | None = None
    uses_left: int | None = None


def uses_here(session: Session, coupon_name: str) -> int:
    """Sales on this till with the coupon that ERPNext has not counted yet (not sent, or
    refused and waiting in quarantine)."""
    rows = session.scalars(
        select(OutboxEntry.payload).where(
            OutboxEntry.state != OutboxState.DONE,
            OutboxEntry.payload.contains(coupon_name),
        )
    )
    return sum(1 for payload in rows if json.loads(payload).get("coupon_code") == coupon_name)


def approval_request(cashier: str, coupon: CouponCode) -> ApprovalRequest:
    """What the screen sends to ``auth.approve`` for a coupon's last use."""
    return ApprovalRequest(
        cashier=cashier,
        action=APPROVAL_ACTION,
        reason=f"Coupon {coupon.name}: its last use cannot be checked while offline",
        detail={"coupon": coupon.name, "maximum_use": coupon.maximum_use, "used": coupon.used},
    )


def apply_coupon(
    session: Session,
    till: Till,
    cart: Cart,
    typed: str,
    *,
    today: date,
    approved_by: str | None = None,
) -> CouponResult:
    """Put the coupon the cashier typed (its printed code or its name) on ``cart``.

    ``approved_by`` is the supervisor who approved taking its last use (``auth.approve``
    succeeded); without it that use comes back NEEDS_APPROVAL.
    """
    if cart.is_return:
        raise CartError("A coupon applies to a sale, not to a return")
    coupon = till.catalog.coupon(typed)
    if coupon is None:
        return CouponResult(
            CouponVerdict.UNKNOWN,
            f"Coupon {typed.strip()!r} is not known to this till: check the code, or it was "
            "made in ERPNext after the last sync",
            cart,
        )

    def refused(verdict: CouponVerdict, message: str, left: int | None = None) -> CouponResult:
        return CouponResult(verdict, message, cart, coupon, left)

    if coupon.valid_from and coupon.valid_from > today:
        return refused(
            CouponVerdict.NOT_STARTED,
            f"Coupon {coupon.name} is valid from {coupon.valid_from.isoformat()}",
        )
    if coupon.valid_upto and coupon.valid_upto < today:
        return refused(
            CouponVerdict.EXPIRED,
            f"Coupon {coupon.name} expired on {coupon.valid_upto.isoformat()}",
        )
    left: int | None = None
    if coupon.maximum_use:
        left = coupon.maximum_use - coupon.used - uses_here(session, coupon.name)
        if left <= 0:
            return refused(
                CouponVerdict.USED_UP,
                f"Coupon {coupon.name} is used up ({coupon.maximum_use} "
                f"use{'s' if coupon.maximum_use != 1 else ''} allowed)",
                0,
            )
    if till.catalog.pricing_rule(coupon.pricing_rule) is None:
        return refused(
            CouponVerdict.NO_DISCOUNT,
            f"Coupon {coupon.name}'s pricing rule {coupon.pricing_rule} is disabled or not on "
            "this till: it gives no discount",
            left,
        )
    if not coupon_rule(till.catalog, coupon):
        newest = till.catalog.coupons_of_rule(coupon.pricing_rule)[0].name
        return refused(
            CouponVerdict.NO_DISCOUNT,
            f"Coupon {coupon.name} gives no discount: ERPNext honours only coupon {newest} of "
            f"pricing rule {coupon.pricing_rule}; ask the back office to give each coupon its "
            "own rule",
            left,
        )
    if left == 1 and not approved_by:
        return refused(
            CouponVerdict.NEEDS_APPROVAL,
            f"Coupon {coupon.name} has one use left and another till may have taken it: this "
            "cannot be checked offline. A supervisor must approve it",
            left,
        )
    priced = till.set_coupon(replace(cart, coupon_approved_by=approved_by), coupon)
    covered = any(coupon.pricing_rule in line.pricing_rules for line in priced.lines)
    message = f"Coupon {coupon.name} applied"
    if not covered:
        message += ": nothing in the sale is covered by it yet"
    if coupon.valid_upto == today:
        message += ". It expires today: ERPNext checks it again when the sale reaches it"
    return CouponResult(CouponVerdict.APPLIED, message, priced, coupon, left)


def remove_coupon(till: Till, cart: Cart) -> Cart:
    """Take the coupon off the sale: its rule stops applying."""
    return till.set_coupon(replace(cart, coupon_approved_by=None), None)

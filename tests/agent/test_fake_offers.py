"""Coupons and free items end to end: the fake ERPNext answers them as the recordings show
(tests/data/erpnext/features/, both modes), a till sells with a coupon and a free item and the
sale lands with ERPNext's totals equal to the till's, and a single-use coupon taken on two
offline tills is refused for the second, kept on the till, and released once the back office
allows the second use (docs/agent.md, "Coupons on several tills")."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.pull import Puller
from appliance.counter.checkout import Checkout
from appliance.counter.offers import CouponVerdict, apply_coupon
from appliance.sales import cart as carts
from appliance.sales.cart import Cart
from appliance.sales.model import PaymentLine
from appliance.store import outbox
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.models import OutboxEntry, OutboxState
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, barcode, make_client, make_pusher
from tests.agent.features import (
    BOTH_MODE_IDS,
    BOTH_MODES,
    PI,
    SI,
    fake_in_mode,
    recorded_error,
)
from tests.shared import scan_on

REUSED = "Sorry, this coupon code is no longer valid"


@pytest.fixture(params=BOTH_MODES, ids=BOTH_MODE_IDS)
def site(request: pytest.FixtureRequest) -> Iterator[tuple[FakeERPNext, str]]:
    yield from fake_in_mode(request.param)


def _item_code(checkout: Checkout, n: int) -> str:
    cart = checkout.read(lambda till: till.scan(checkout.new_cart(), barcode(n)))
    return cart.lines[0].item_code


def _offers(erp: FakeERPNext, coupon_item: str, bought: str, free: str) -> None:
    erp.site.load(
        [
            {
                "doctype": "Pricing Rule",
                "name": "PRLE-9001",
                "title": "Coupon 10 %",
                "apply_on": "Item Code",
                "items": [{"item_code": coupon_item}],
                "price_or_product_discount": "Price",
                "coupon_code_based": 1,
                "selling": 1,
                "currency": "CAD",
                "rate_or_discount": "Discount Percentage",
                "discount_percentage": 10,
                "disable": 0,
            },
            {
                "doctype": "Pricing Rule",
                "name": "PRLE-9002",
                "title": "Buy 2 get 1",
                "apply_on": "Item Code",
                "items": [{"item_code": bought}],
                "price_or_product_discount": "Product",
                "min_qty": 2,
                "free_item": free,
                "free_qty": 1,
                "selling": 1,
                "currency": "CAD",
                "disable": 0,
            },
            {
                "doctype": "Coupon Code",
                "name": "FXSAVE10",
                "coupon_name": "FXSAVE10",
                "coupon_code": "FXSAVE10",
                "coupon_type": "Promotional",
                "pricing_rule": "PRLE-9001",
                "maximum_use": 1,
                "used": 0,
            },
        ]
    )


def _pull(client: ERPNextClient, db_path: Path) -> None:
    engine = create_db_engine(db_path)
    Puller(
        client, make_session_factory(engine, read_only=True), make_session_factory(engine)
    ).pull()


def _coupon_sale(checkout: Checkout, coupon_item: int, bought: int) -> Cart:
    """Scan the coupon's item and two of the free-item rule's, take the coupon (its only use:
    a supervisor approves), pay cash, commit."""
    cart = checkout.new_cart()
    for n in (coupon_item, bought, bought):
        code = barcode(n)
        cart = checkout.read(scan_on(cart, code))
    with checkout.reading() as session:
        asked = apply_coupon(session, checkout.till, cart, "fxsave10", today=checkout.till.today)
        assert asked.verdict is CouponVerdict.NEEDS_APPROVAL, asked.message
        taken = apply_coupon(
            session,
            checkout.till,
            cart,
            "fxsave10",
            today=checkout.till.today,
            approved_by="sam@example.com",
        )
    assert taken.verdict is CouponVerdict.APPLIED, taken.message
    paid = carts.add_payment(taken.cart, PaymentLine("Cash", taken.cart.amount_due, type="Cash"))
    checkout.commit(paid, CASHIER)
    return paid


def test_the_fake_counts_a_coupon_at_submit_and_refuses_a_second_use_at_draft(
    site: tuple[FakeERPNext, str], checkout: Checkout
) -> None:
    erp, doctype = site
    coupon_item, bought, free = (_item_code(checkout, n) for n in (10, 11, 12))
    _offers(erp, coupon_item, bought, free)
    client = make_client(erp)
    profile = erp.site.get("POS Profile", "Main POS")
    client.insert(
        "POS Opening Entry",
        {
            "company": profile["company"],
            "pos_profile": "Main POS",
            "user": erp.user,
            "period_start_date": "2026-12-07 09:00:00",
            "posting_date": "2026-12-07",
            "balance_details": [{"mode_of_payment": "Cash", "opening_amount": 0}],
            "docstatus": 1,
        },
    )
    base: dict[str, Any] = {
        "customer": "Walk-in Customer",
        "company": profile["company"],
        "pos_profile": "Main POS",
        "currency": "CAD",
        "selling_price_list": "Standard Selling",
        "set_warehouse": profile["warehouse"],
        "is_pos": 1,
        "update_stock": 1,
        "payments": [{"mode_of_payment": "Cash", "account": "Cash - PPC", "amount": 1000}],
        "paid_amount": 1000,
    }
    if doctype == SI:
        base["is_created_using_pos"] = 1
    coupon_sale = {
        **base,
        "coupon_code": "FXSAVE10",
        "items": [{"item_code": coupon_item, "qty": 1, "rate": 5}],
    }
    draft = client.insert(doctype, coupon_sale).doc
    assert erp.site.get("Coupon Code", "FXSAVE10")["used"] == 0  # 216, 218: not at draft
    client.update(doctype, draft["name"], {"docstatus": 1})
    assert erp.site.get("Coupon Code", "FXSAVE10")["used"] == 1  # 226, 228: at submit

    status, exc_type, message = recorded_error(
        "230_v15_coupon_reuse_single_use_draft"
        if doctype == PI
        else "232_v16_coupon_reuse_single_use_draft"
    )
    with pytest.raises(ERPNextError) as refused:
        client.insert(doctype, coupon_sale)
    assert (refused.value.status, refused.value.exc_type) == (status, exc_type)
    assert message == REUSED and REUSED in str(refused.value)

    # A sale the server prices itself gets the rule's free line (303/304), once (307/311),
    # at the rule's quantity (310/314); one marked free is kept as sent (316/318).
    two = {**base, "items": [{"item_code": bought, "qty": 2, "rate": 5}]}
    added = client.insert(doctype, two).doc
    assert [
        (r["item_code"], r.get("is_free_item"), r.get("pricing_rules")) for r in added["items"]
    ][1:] == [(free, 1, "PRLE-9002")]
    sent_free = {
        "item_code": free,
        "qty": 2,
        "rate": 0,
        "is_free_item": 1,
        "pricing_rules": "PRLE-9002",
    }
    kept = client.insert(doctype, {**two, "items": [*two["items"], sent_free]}).doc
    assert [(r["item_code"], float(r["qty"])) for r in kept["items"]] == [
        (bought, 2.0),
        (free, 1.0),
    ]


def test_a_sale_with_a_coupon_and_a_free_item_lands_as_the_till_computed_it(
    site: tuple[FakeERPNext, str], checkout: Checkout, db_path: Path
) -> None:
    erp, doctype = site
    _offers(erp, *(_item_code(checkout, n) for n in (10, 11, 12)))
    client = make_client(erp)
    _pull(client, db_path)  # the Coupon Code and the rules reach the till by the pull
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = _coupon_sale(checkout, 10, 11)
    assert [line.is_free_item for line in cart.lines] == [False, False, True]
    assert cart.lines[0].discount_percentage == 10

    report = make_pusher(client, db_path).push()
    assert not report.quarantined and not report.mismatches, report.as_dict()
    (invoice,) = erp.site.all(doctype)
    assert invoice["coupon_code"] == "FXSAVE10"
    assert [bool(r.get("is_free_item")) for r in invoice["items"]] == [False, False, True]
    assert D(str(invoice["grand_total"])) == cart.totals.grand_total  # type: ignore[union-attr]
    assert erp.site.get("Coupon Code", "FXSAVE10")["used"] == 1

    _pull(client, db_path)  # the count comes back: this till now knows it is used up
    with checkout.reading() as session:
        again = apply_coupon(
            session, checkout.till, checkout.new_cart(), "FXSAVE10", today=checkout.till.today
        )
    assert again.verdict is CouponVerdict.USED_UP


def test_a_single_use_coupon_taken_on_two_offline_tills_is_refused_for_the_second_and_kept(
    site: tuple[FakeERPNext, str], checkout: Checkout, db_path: Path
) -> None:
    erp, doctype = site
    _offers(erp, *(_item_code(checkout, n) for n in (10, 11, 12)))
    client = make_client(erp)
    _pull(client, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = _coupon_sale(checkout, 10, 11)  # offline, its only use approved by a supervisor
    # Meanwhile another till, offline too, sold with the same coupon and synced first.
    erp.site.touch("Coupon Code", "FXSAVE10", used=1)

    report = make_pusher(client, db_path).push()
    (refused,) = report.quarantined
    assert refused.offline_id == cart.offline_id and REUSED in (refused.message or "")
    assert erp.site.all(doctype) == []
    factory = make_session_factory(create_db_engine(db_path))
    with factory() as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.offline_id == cart.offline_id))
        assert entry is not None and entry.state is OutboxState.QUARANTINED
        assert REUSED in (entry.last_error or "")  # kept, paid, with ERPNext's reason

    # The documented remedy: the back office allows the second use, a supervisor releases it.
    erp.site.touch("Coupon Code", "FXSAVE10", maximum_use=2)
    with unit_of_work(factory) as uow:
        entry = uow.session.scalar(
            select(OutboxEntry).where(OutboxEntry.offline_id == cart.offline_id)
        )
        assert entry is not None
        outbox.release(uow.session, entry)
        uow.commit()
    again = make_pusher(client, db_path).push()
    assert not again.quarantined and not again.mismatches, again.as_dict()
    (invoice,) = erp.site.all(doctype)
    assert invoice["coupon_code"] == "FXSAVE10"
    assert "approved by sam@example.com" in invoice["remarks"]
    assert erp.site.get("Coupon Code", "FXSAVE10")["used"] == 2

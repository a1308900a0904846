"""A sale with a sales person, a note, a case of 12 and a coupon, from the till over real HTTP
to the fake ERPNext in both POS modes (15: POS Invoice, 16: Sales Invoice), answered as the
recordings show (features/NOTES.md §2, §6); the shift then closes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from appliance.agent.client import ERPNextError
from appliance.counter import sale_details
from appliance.counter.checkout import Checkout
from appliance.counter.offers import CouponVerdict, apply_coupon
from appliance.demo.masters import SALES_PEOPLE, all_masters
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine
from appliance.store.db import unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.models import OutboxEntry
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, make_client, make_pusher, sell
from tests.counter.test_sale_details import box_item

COUPON = "SPRING10"
OFFERS: list[dict[str, Any]] = [
    {
        "doctype": "Pricing Rule",
        "name": "PRLE-C10",
        "modified": "2026-12-07 01:00:00.000000",
        "apply_on": "Item Group",
        "item_groups": [{"item_group": "All Item Groups"}],
        "price_or_product_discount": "Price",
        "coupon_code_based": 1,
        "selling": 1,
        "currency": "CAD",
        "rate_or_discount": "Discount Percentage",
        "discount_percentage": 10,
    },
    {
        "doctype": "Coupon Code",
        "name": COUPON,
        "modified": "2026-12-07 01:00:00.000000",
        "coupon_code": "SPRING",
        "coupon_type": "Promotional",
        "pricing_rule": "PRLE-C10",
        "maximum_use": 5,
        "used": 0,
        "creation": "2026-12-07 01:00:00.000000",
    },
]


@pytest.fixture(params=[(15, "POS Invoice"), (16, "Sales Invoice")], ids=["v15-pos", "v16-si"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeERPNext]:
    version, invoice_type = request.param
    masters = [*all_masters(SMALL), *OFFERS]
    with FakeERPNext(masters, version=version, invoice_type=invoice_type) as erp:
        yield erp


def _detailed_sale(checkout: Checkout) -> str:
    """A case of 12 of one item, a sales person, a note and the coupon; paid cash."""
    with unit_of_work(checkout._write) as uow:
        apply_masters(uow.session, [dict(d) for d in OFFERS])
        uow.commit()
    cart = checkout.read(lambda till: till.add_item(checkout.new_cart(), box_item(checkout)))
    assert not cart.lines[0].pricing_rules  # no discount but the coupon's
    line_id = cart.lines[0].line_id
    cart = checkout.read(lambda till: till.set_uom(cart, line_id, "Box"))
    with checkout.reading() as session:
        cart = sale_details.choose_sales_person(session, cart, SALES_PEOPLE[0])
        result = apply_coupon(session, checkout.till, cart, "spring", today=checkout.clock().date())
    assert result.verdict is CouponVerdict.APPLIED, result.message
    cart = carts.set_note(result.cart, "Gift wrap, served by Ana")
    cart = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
    checkout.commit(cart, CASHIER)
    return cart.offline_id


def _body(checkout: Checkout, offline_id: str) -> dict[str, Any]:
    with checkout.reading() as session:
        payload = session.scalar(
            select(OutboxEntry.payload).where(OutboxEntry.offline_id == offline_id)
        )
    assert payload is not None
    body: dict[str, Any] = json.loads(payload)
    return body


def test_a_detailed_sale_lands_as_erpnext_books_it_and_the_shift_closes(
    checkout: Checkout, db_path: Path, fake: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(150)})
    offline_id = _detailed_sale(checkout)
    sell(checkout, 10, 11)
    client = make_client(fake)
    pusher = make_pusher(client, db_path)
    first = pusher.push()
    assert not first.quarantined and not first.mismatches, first

    doctype = "Sales Invoice" if fake.site.version >= 16 else "POS Invoice"
    (inv,) = [i for i in fake.site.all(doctype) if i["offline_id"] == offline_id]
    (team,) = inv["sales_team"]
    assert team["sales_person"] == SALES_PEOPLE[0] and team["allocated_percentage"] == 100
    assert team["commission_rate"] == "5"
    # 16 books the commission on the Sales Invoice; 15 computes nothing (601, 605).
    expected = round(inv["net_total"], 2) if fake.site.version >= 16 else 0
    assert team["allocated_amount"] == expected
    assert inv["remarks"].startswith("Gift wrap, served by Ana\n")
    (row,) = inv["items"]
    assert (row["uom"], row["conversion_factor"], row["qty"], row["stock_qty"]) == (
        "Box",
        12,
        1,
        12,
    )
    assert inv["coupon_code"] == COUPON and row["discount_percentage"] == 10
    assert row["price_list_rate"] > row["rate"]  # the coupon's 10 % off, kept by the server
    assert fake.site.docs["Coupon Code"][COUPON]["used"] == 1  # counted at submit

    # What the till refuses up front is what the server does (v16) or silently takes (v15).
    body = {**_body(checkout, offline_id), "offline_id": "another-sale"}
    body.pop("coupon_code")
    nobody = {**body, "sales_team": [{"sales_person": "FX Nobody", "allocated_percentage": 100}]}
    if fake.site.version >= 16:
        with pytest.raises(ERPNextError, match="Could not find Row #1: Sales Person: FX Nobody"):
            client.insert(doctype, nobody)
    else:
        assert client.insert(doctype, nobody).doc["sales_team"][0]["sales_person"] == "FX Nobody"
    half = {
        **body,
        "offline_id": "a-third-sale",
        "sales_team": [{"sales_person": SALES_PEOPLE[0], "allocated_percentage": 50}],
    }
    with pytest.raises(
        ERPNextError, match="Total allocated percentage for sales team should be 100"
    ):
        client.insert(doctype, half)

    checkout.close_shift(CASHIER, {"Cash": D(300)})  # over or short is the Z report's business
    closing = pusher.push()
    assert not closing.quarantined and not closing.mismatches, closing
    (entry,) = fake.site.all("POS Closing Entry")
    assert entry["docstatus"] == 1
    (opening,) = fake.site.all("POS Opening Entry")
    assert opening["status"] == "Closed"

"""A sale with a sales person, a note, a case of 12, a coupon, a serial item and a batch item,
from the till over real HTTP to the fake ERPNext in both POS modes (15: POS Invoice, 16: Sales
Invoice), answered as the recordings show (features/NOTES.md §2, §4, §6); the shift then closes.
The till pulls its masters (serials, batches, sales people, the coupon) from the fake first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.pull import Puller, PullReport
from appliance.counter import numbers, sale_details
from appliance.counter.checkout import Checkout
from appliance.counter.offers import CouponVerdict, apply_coupon
from appliance.demo.masters import (
    BATCH_ITEM,
    BATCHES,
    SALES_PEOPLE,
    SERIAL_ITEM,
    SERIALS,
    WAREHOUSE,
    all_masters,
    numbered_docs,
)
from appliance.sales import cart as carts
from appliance.sales.cart import CartError
from appliance.sales.model import PaymentLine
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.models import OutboxEntry, SerialNo
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, make_client, make_pusher, return_all, sell
from tests.agent.test_push import _receipt
from tests.counter.test_sale_details import box_item
from tests.shared import coupon_docs

COUPON = "SPRING10"
OFFERS = coupon_docs({"name": COUPON, "coupon_code": "SPRING", "maximum_use": 5})


@pytest.fixture(params=[(15, "POS Invoice"), (16, "Sales Invoice")], ids=["v15-pos", "v16-si"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeERPNext]:
    version, invoice_type = request.param
    masters = [*all_masters(SMALL), *numbered_docs(), *OFFERS]
    with FakeERPNext(masters, version=version, invoice_type=invoice_type) as erp:
        yield erp


def _pull(client: ERPNextClient, db_path: Path) -> PullReport:
    engine = create_db_engine(db_path)
    puller = Puller(
        client, make_session_factory(engine, read_only=True), make_session_factory(engine)
    )
    return puller.pull()


def _detailed_sale(checkout: Checkout) -> str:
    """A case of 12 of one item, a drill by its serial, paint from a batch, a sales person, a
    note and the coupon; paid cash."""
    cart = checkout.read(lambda till: till.add_item(checkout.new_cart(), box_item(checkout)))
    assert not cart.lines[0].pricing_rules  # no discount but the coupon's
    line_id = cart.lines[0].line_id
    cart = checkout.read(lambda till: till.set_uom(cart, line_id, "Box"))
    cart = checkout.read(lambda till: till.add_item(till.add_item(cart, SERIAL_ITEM), BATCH_ITEM))
    drill, paint = cart.lines[1].line_id, cart.lines[2].line_id
    with checkout.reading() as session:
        cart = numbers.give_serial(session, WAREHOUSE, cart, drill, SERIALS[0])
        cart = numbers.give_batch(session, cart, paint, BATCHES[0], checkout.clock().date())
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
    client = make_client(fake)
    pulled = _pull(client, db_path)
    assert pulled.applied["Serial No"] == len(SERIALS) and pulled.applied["Batch"] == 2
    checkout.open_shift(CASHIER, {"Cash": D(150)})
    offline_id = _detailed_sale(checkout)
    sell(checkout, 10, 11)
    # A drill sold and brought back: the return names the same serial.
    drill_sale = checkout.read(lambda till: till.add_item(checkout.new_cart(), SERIAL_ITEM))
    with checkout.reading() as session:
        drill_sale = numbers.give_serial(
            session, WAREHOUSE, drill_sale, drill_sale.lines[0].line_id, SERIALS[2]
        )
    drill_sale = carts.add_payment(
        drill_sale, PaymentLine("Cash", drill_sale.amount_due, type="Cash")
    )
    checkout.commit(drill_sale, CASHIER)
    return_all(checkout, _receipt(db_path, drill_sale.offline_id))
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
    row, drill, paint = inv["items"]
    assert (row["uom"], row["conversion_factor"], row["qty"], row["stock_qty"]) == (
        "Box",
        12,
        1,
        12,
    )
    assert inv["coupon_code"] == COUPON and row["discount_percentage"] == 10
    assert row["price_list_rate"] > row["rate"]  # the coupon's 10 % off, kept by the server
    assert fake.site.docs["Coupon Code"][COUPON]["used"] == 1  # counted at submit
    assert (drill["serial_no"], paint["batch_no"]) == (SERIALS[0], BATCHES[0])
    assert drill["serial_and_batch_bundle"] and paint["serial_and_batch_bundle"]
    # 16 delivers the serial at submit; 15 only at the consolidation (427, 722): the till
    # knows its own sale either way.
    status = fake.site.docs["Serial No"][SERIALS[0]]["status"]
    assert status == ("Delivered" if fake.site.version >= 16 else "Active")
    _pull(client, db_path)
    with checkout.reading() as session:
        assert session.get(SerialNo, SERIALS[0]).status == status  # type: ignore[union-attr]
        again = checkout.read(lambda till: till.add_item(checkout.new_cart(), SERIAL_ITEM))
        with pytest.raises(CartError, match=r"not in this shop's stock|sold on this till"):
            numbers.give_serial(session, WAREHOUSE, again, again.lines[0].line_id, SERIALS[0])

    # What the till refuses up front is what the server does (v16) or silently takes (v15).
    body = {**_body(checkout, offline_id), "offline_id": "another-sale"}
    body.pop("coupon_code")
    # The serial sold already: refused by both, each in its own words (416, 419).
    sold = "is not present in the warehouse" if fake.site.version < 16 else "cannot outward"
    with pytest.raises(ERPNextError, match=sold):
        client.insert(doctype, body)
    # No serial at all is taken: the server picks one itself (420, 421), which is why the till
    # asks for it.
    unnumbered = ("serial_no", "batch_no", "use_serial_batch_fields")
    body["items"] = [{k: v for k, v in r.items() if k not in unnumbered} for r in body["items"]]
    body["offline_id"] = "no-serial"
    picked = client.insert(doctype, body).doc["items"]
    assert picked[1]["serial_no"] == (SERIALS[1] if fake.site.version < 16 else None)
    assert picked[2].get("batch_no") == (BATCHES[0] if fake.site.version < 16 else None)
    nobody = {
        **body,
        "offline_id": "nobody",
        "sales_team": [{"sales_person": "FX Nobody", "allocated_percentage": 100}],
    }
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
    assert fake.site.docs["Serial No"][SERIALS[0]]["status"] == "Delivered"
    (back,) = [i for i in fake.site.all(doctype) if i["is_return"]]
    assert [r["serial_no"] for r in back["items"]] == [SERIALS[2]]
    assert fake.site.docs["Serial No"][SERIALS[2]]["status"] == "Active"  # in stock again

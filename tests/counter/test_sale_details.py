"""A sale's sales person, note and unit (issue 19 item 7), on a real store and Checkout, the
sale committed to the real outbox: what ERPNext will receive is checked in the stored body."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select

from appliance.counter import sale_details
from appliance.counter.checkout import Checkout
from appliance.demo.masters import SALES_PEOPLE, SALES_TEAM_ROOT
from appliance.sales import cart as carts
from appliance.sales.cart import Cart, CartError
from appliance.sales.model import PaymentLine, TotalsSettings
from appliance.store.held import dumps_cart, loads_cart
from appliance.store.models import OutboxEntry
from tests.shared import box_item as shared_box_item

CASHIER = "ana@example.com"


def box_item(checkout: Checkout) -> str:
    with checkout.reading() as session:
        return shared_box_item(session)


def sent(checkout: Checkout, cart: Cart) -> dict[str, Any]:
    """Pay ``cart`` in cash and commit it; the body the agent will send."""
    paid = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
    checkout.commit(paid, CASHIER)
    with checkout.reading() as session:
        payload = session.scalars(select(OutboxEntry.payload).order_by(OutboxEntry.id)).all()
    body: dict[str, Any] = json.loads(payload[-1])
    return body


def test_the_pulled_sales_people_are_offered_and_go_to_erpnext_as_the_sales_team(
    checkout: Checkout,
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    with checkout.reading() as session:
        people = sale_details.sales_people(session)
        assert people == tuple(sorted(SALES_PEOPLE))  # the group "Sales Team" is no person
        cart = checkout.read(lambda till: till.add_item(checkout.new_cart(), box_item(checkout)))
        cart = sale_details.choose_sales_person(session, cart, SALES_PEOPLE[1])
    cart = carts.set_note(cart, "Gift wrap,\n  deliver Friday")
    body = sent(checkout, cart)
    assert body["sales_team"] == [{"sales_person": SALES_PEOPLE[1], "allocated_percentage": 100}]
    remarks = str(body["remarks"])
    assert remarks.startswith("Gift wrap, deliver Friday\n")  # the note, on one line
    assert "cashier ana@example.com" in remarks  # and who sold it, as before


def test_an_unknown_sales_person_or_the_team_itself_is_refused_before_erpnext_16_does(
    checkout: Checkout,
) -> None:
    cart = checkout.new_cart()
    with checkout.reading() as session:
        with pytest.raises(CartError, match="not a Sales Person this till knows"):
            sale_details.choose_sales_person(session, cart, "FX Nobody")
        with pytest.raises(CartError, match="team or disabled"):
            sale_details.choose_sales_person(session, cart, SALES_TEAM_ROOT)
        chosen = sale_details.choose_sales_person(session, cart, SALES_PEOPLE[0])
        assert sale_details.choose_sales_person(session, chosen, None).sales_person is None


def test_a_sale_without_a_sales_person_or_note_sends_neither(checkout: Checkout) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = checkout.read(lambda till: till.add_item(checkout.new_cart(), box_item(checkout)))
    body = sent(checkout, cart)
    assert "sales_team" not in body
    assert str(body["remarks"]).startswith("Till ")


def test_a_note_too_long_is_refused_and_the_cart_keeps_its_note() -> None:
    cart = carts.set_note(Cart(settings=TotalsSettings()), "ok")
    with pytest.raises(CartError, match="at most 500"):
        carts.set_note(cart, "x" * 501)
    assert cart.note == "ok"


def test_a_line_sold_by_the_box_costs_twelve_units_and_moves_twelve_in_stock(
    checkout: Checkout,
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(1000)})
    code = box_item(checkout)
    cart = checkout.read(lambda till: till.add_item(checkout.new_cart(), code))
    unit_price = cart.lines[0].base_rate
    line_id = cart.lines[0].line_id
    units = checkout.read(lambda till: till.units(cart, line_id))
    assert units[0][1] == 1 and ("Box", D(12)) in units

    boxed = checkout.read(lambda till: till.set_uom(cart, line_id, "Box"))
    line = boxed.lines[0]
    assert (line.uom, line.conversion_factor, line.qty) == ("Box", D(12), D(1))
    assert line.price_list_rate == unit_price * 12
    assert boxed.amount_due > cart.amount_due
    body = sent(checkout, boxed)
    (row,) = body["items"]
    assert (row["uom"], row["conversion_factor"], row["qty"]) == ("Box", 12, 1)
    assert D(str(row["price_list_rate"])) == unit_price * 12

    back = checkout.read(lambda till: till.set_uom(boxed, line_id, units[0][0]))
    assert back.lines[0].price_list_rate == unit_price and back.amount_due == cart.amount_due
    with pytest.raises(CartError, match="has no unit Pallet"):
        checkout.read(lambda till: till.set_uom(cart, line_id, "Pallet"))


def test_a_held_sale_keeps_its_sales_person_note_and_unit(checkout: Checkout) -> None:
    code = box_item(checkout)
    cart = checkout.read(lambda till: till.add_item(checkout.new_cart(), code))
    cart = checkout.read(lambda till: till.set_uom(cart, cart.lines[0].line_id, "Box"))
    with checkout.reading() as session:
        cart = sale_details.choose_sales_person(session, cart, SALES_PEOPLE[0])
    cart = carts.set_note(cart, "Call when it arrives")
    back = loads_cart(dumps_cart(cart))
    assert (back.sales_person, back.note) == (SALES_PEOPLE[0], "Call when it arrives")
    assert (back.lines[0].uom, back.amount_due) == ("Box", cart.amount_due)

"""Who made the sale and the cashier's note on it (issue 19 item 7).

A sale names a Sales Person ERPNext has, as pulled: ERPNext 16 refuses an unknown one when the
sale reaches it, and 15 takes it and books the commission to nobody (features/NOTES.md §6), so
the till refuses what it does not know, the same on both. A group ("Sales Team") is no person.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.sales.cart import Cart, CartError, set_sales_person
from appliance.store.models import SalesPerson


def sales_people(session: Session) -> tuple[str, ...]:
    """The Sales Persons a sale may name, by name."""
    return tuple(
        session.scalars(
            select(SalesPerson.name)
            .where(SalesPerson.enabled.is_(True), SalesPerson.is_group.is_(False))
            .order_by(SalesPerson.name)
        )
    )


def choose_sales_person(session: Session, cart: Cart, name: str | None) -> Cart:
    """``cart`` made by ``name`` (None or "" clears it), refused if ERPNext would not take it."""
    if not name:
        return set_sales_person(cart, None)
    if cart.is_return:
        raise CartError("A return keeps the sales person of the sale it refunds")
    person = session.get(SalesPerson, name)
    if person is None:
        raise CartError(
            f"{name} is not a Sales Person this till knows: pick one from the list, or ask "
            "the back office to add them in ERPNext"
        )
    if person.is_group or not person.enabled:
        raise CartError(f"{name} is a team or disabled in ERPNext: pick a person")
    return set_sales_person(cart, person.name)

"""Quick keys: the profile's groups, the till's most-sold items, a group's items page by page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from functools import partial

from sqlalchemy import select

from appliance.counter.checkout import Checkout
from appliance.counter.quick_keys import favourites, group_page, quick_groups
from appliance.demo.masters import ean13
from appliance.sales import cart as carts
from appliance.sales.cart import Cart
from appliance.sales.model import PaymentLine
from appliance.sales.till import Till
from appliance.store.models import Item, ItemBarcode, PosItemGroup

CASHIER = "ana@example.com"
TODAY = datetime(2026, 12, 7, 10, 0)


def _scan(cart: Cart, code: str, till: Till) -> Cart:
    return till.scan(cart, code)


def _sell(checkout: Checkout, codes: list[str]) -> None:
    cart = checkout.new_cart()
    for code in codes:
        cart = checkout.read(partial(_scan, cart, code))
    cart = carts.add_payment(cart, PaymentLine("Cash", D(900), type="Cash"))
    checkout.commit(cart, CASHIER)


def test_most_sold_items_come_first(checkout: Checkout) -> None:
    checkout.clock = lambda: TODAY
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    a, b, c = (ean13(f"06{n:010d}") for n in (10, 11, 12))
    for codes in ([a, b], [b], [b, c], [a]):  # b in 3 sales, a in 2, c in 1
        _sell(checkout, codes)
    with checkout.reading() as session:
        top = favourites(session, "DEMO1", TODAY.date())
        assert [q.item_code for q in top] == ["SKU-000011", "SKU-000010", "SKU-000012"]
        assert favourites(session, "OTHER", TODAY.date()) == ()  # another till's sales


def test_groups_are_the_profiles_or_every_stocked_group(checkout: Checkout) -> None:
    with checkout.reading() as session:
        groups = quick_groups(session, checkout.profile.name)
        assert {"Bakery", "Produce", "Fuel"} <= set(groups) and "All Item Groups" not in groups
    with checkout._write() as session, session.begin():
        for name in ("Bakery", "Produce"):
            session.add(PosItemGroup(parent=checkout.profile.name, item_group=name))
    with checkout.reading() as session:
        assert quick_groups(session, checkout.profile.name) == ("Bakery", "Produce")


def test_a_group_lists_its_subgroups_items_unbarcoded_first_page_by_page(
    checkout: Checkout,
) -> None:
    with checkout.reading() as session:
        seen: list[str] = []
        page_no, more = 0, True
        while more:
            page = group_page(session, "Grocery", page_no, per_page=12)
            assert len(page.items) <= 12
            seen += [q.item_code for q in page.items]
            page_no, more = page_no + 1, page.more
        grocery = {"Grocery", "Produce", "Dairy", "Bakery", "Pantry", "Snacks"}
        expected = session.scalars(
            select(Item.item_code).where(Item.item_group.in_(grocery), ~Item.disabled)
        ).all()
        assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
        barcoded = set(session.scalars(select(ItemBarcode.parent)))
        weighed = set(session.scalars(select(Item.item_code).where(Item.is_weighed)))
        scanned = [code in barcoded and code not in weighed for code in seen]
        assert scanned == sorted(scanned)  # every item a scanner can't sell comes first
        assert scanned[: len(weighed & set(seen))] == [False] * len(weighed & set(seen))
        assert weighed & set(seen)  # the produce
        assert group_page(session, "No Such Group").items == ()

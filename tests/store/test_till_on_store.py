"""The till sells from the SQLite store: scans, BC taxes with the carbon levy, promotions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine

from appliance.demo.masters import ACC_GST, ACC_LEVY, ACC_PST
from appliance.sales.barcode import ScanConfig
from appliance.sales.cart import Cart
from appliance.sales.till import Till
from appliance.store.catalog import SqlCatalog, load_till_profile
from appliance.store.db import make_session_factory
from tests.store.demo_store import by_name, demo_docs, seeded_engine

ITEMS = by_name(demo_docs(), "Item")
CENT = D("0.01")


@pytest.fixture(scope="module")
def till(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Till]:
    engine: Engine = seeded_engine(tmp_path_factory.mktemp("till") / "pos.db")
    with make_session_factory(engine, read_only=True)() as session:
        profile = load_till_profile(session, "Main POS", ScanConfig())
        yield Till(SqlCatalog(session), profile, date(2026, 11, 23))
    engine.dispose()


def taxes(cart: Cart) -> dict[str, D]:
    assert cart.totals is not None
    return {t.account_head: t.tax_amount for t in cart.totals.taxes}


def cents(value: D) -> D:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def first_of(group: str, *, boxed: bool = False) -> dict[str, Any]:
    return next(
        d
        for d in ITEMS.values()
        if d["item_group"] == group and (len(d["barcodes"]) == 2 or not boxed)
    )


def test_a_scanned_snack_pays_gst_and_pst_and_no_levy(till: Till) -> None:
    snack = first_of("Snacks")
    cart = till.scan(till.new_cart(), snack["barcodes"][0]["barcode"])
    assert cart.customer == "Walk-in Customer" and cart.taxes_and_charges == "BC GST+PST - PPC"
    (line,) = cart.lines
    assert (line.item_code, line.uom, line.item_tax_template) == (
        snack["item_code"],
        snack["stock_uom"],
        "No fuel levy",
    )
    totals = cart.totals
    assert totals is not None
    net = totals.net_total
    assert net == line.price_list_rate
    assert taxes(cart) == {
        ACC_LEVY: D("0.00"),
        ACC_GST: cents(net * 5 / 100),
        ACC_PST: cents(net * 7 / 100),
    }
    assert totals.grand_total == net + taxes(cart)[ACC_GST] + taxes(cart)[ACC_PST]
    # Cash rounds to the nickel (Currency CAD, smallest fraction 0.05).
    assert totals.rounded_total % D("0.05") == 0
    assert abs(totals.rounded_total - totals.grand_total) <= D("0.025")


def test_fuel_pays_the_per_litre_levy_and_tax_on_it(till: Till) -> None:
    fuel = ITEMS["SKU-000001"]
    cart = till.scan(till.new_cart(), fuel["barcodes"][0]["barcode"])
    cart = till.set_qty(cart, cart.lines[0].line_id, D(40))
    (line,) = cart.lines
    assert (line.uom, line.item_tax_template) == ("Litre", None)
    totals = cart.totals
    assert totals is not None
    # ERPNext keeps a tax rate to 3 places: 0.1761/L is charged as 0.176/L.
    levy = cents(D(40) * D("0.176"))
    assert levy == D("7.04")
    base = totals.net_total + levy
    assert taxes(cart) == {
        ACC_LEVY: levy,
        ACC_GST: cents(base * 5 / 100),
        ACC_PST: cents(base * 7 / 100),
    }
    assert totals.grand_total == base + cents(base * 5 / 100) + cents(base * 7 / 100)


def test_a_box_barcode_sells_the_box(till: Till) -> None:
    boxed = first_of("Household", boxed=True)
    unit_code, box_code = (b["barcode"] for b in boxed["barcodes"])
    unit = till.scan(till.new_cart(), unit_code).lines[0]
    box = till.scan(till.new_cart(), box_code).lines[0]
    assert (box.uom, box.conversion_factor) == ("Box", D(12))
    assert box.price_list_rate == unit.price_list_rate * 12


def test_dairy_gets_its_promotion_and_is_zero_rated(till: Till) -> None:
    dairy = first_of("Dairy")
    cart = till.scan(till.new_cart(), dairy["barcodes"][0]["barcode"])
    (line,) = cart.lines
    assert line.pricing_rules == ("PRLE-0001",) and line.discount_percentage == D(10)
    assert line.item_tax_template == "Zero-rated food"
    assert set(taxes(cart).values()) == {D("0.00")}


def test_search_then_add_by_code(till: Till) -> None:
    found = till.catalog.search_items("gasoline", 5)
    assert [i.item_code for i in found] == ["SKU-000002", "SKU-000001"]
    cart = till.add_item(till.new_cart(), found[1].item_code, D(10))
    assert cart.totals is not None and taxes(cart)[ACC_LEVY] == D("1.76")

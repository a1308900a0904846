"""Units ERPNext counts in whole numbers (UOM "Must be Whole Number") never sell in fractions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from appliance.sales import cart as carts
from appliance.sales.barcode import EmbeddedLayout, ScanConfig
from appliance.sales.cart import CartError
from appliance.sales.catalog import Barcode, CatalogItem, ItemPrice, MemoryCatalog
from appliance.sales.model import PaymentLine, TotalsSettings
from appliance.sales.returns import make_return
from appliance.sales.till import Till, TillProfile

WEIGHT = EmbeddedLayout.from_pattern("20IIIIIWWWWWC")
WHOLE = frozenset({"Nos", "Box"})
CATALOG = MemoryCatalog(
    items=[
        CatalogItem(
            "COFFEE", "Coffee beans 340g", "Pantry", "Nos", uoms={"Box": D(12)}, whole_uoms=WHOLE
        ),
        CatalogItem("APPLE", "Gala Apples", "Produce", "Kg", is_weighed=True),
        # Misconfigured: weighed, but kept in pieces that must be whole.
        CatalogItem("MELON", "Melon", "Produce", "Nos", is_weighed=True, whole_uoms=WHOLE),
        # Sold by the kilogram, stocked in whole pieces (4 to the kg).
        CatalogItem("BUN", "Bun", "Bakery", "Nos", uoms={"Kg": D(4)}, whole_uoms=WHOLE),
    ],
    barcodes=[Barcode("4011", "APPLE"), Barcode("4050", "MELON")],
    prices=[
        ItemPrice("COFFEE", "Std", "Nos", D("12.99")),
        ItemPrice("APPLE", "Std", "Kg", D("3.99")),
        ItemPrice("MELON", "Std", "Nos", D("4.99")),
        ItemPrice("BUN", "Std", "Nos", D("0.50")),
    ],
)
PROFILE = TillProfile(
    name="Main POS",
    company="PPC",
    currency="CAD",
    price_list="Std",
    warehouse="Stores",
    walk_in_customer="",
    settings=TotalsSettings(),
    scan=ScanConfig(layouts=(WEIGHT,)),
)


@pytest.fixture
def till() -> Till:
    return Till(CATALOG, PROFILE, date(2026, 12, 7))


def test_a_fraction_of_a_piece_is_refused_not_rounded(till: Till) -> None:
    with pytest.raises(CartError, match=r"Coffee beans 340g is sold in whole Nos: 1\.2345 is not"):
        till.add_item(till.new_cart(), "COFFEE", D("1.2345"))
    cart = till.add_item(till.new_cart(), "COFFEE", D(2))
    assert cart.lines[0].qty == 2


def test_a_quantity_change_to_a_fraction_is_refused_and_the_line_kept(till: Till) -> None:
    cart = till.add_item(till.new_cart(), "COFFEE", D(2))
    with pytest.raises(CartError, match="whole Nos"):
        till.set_qty(cart, cart.lines[0].line_id, D("1.5"))
    assert cart.lines[0].qty == 2
    assert till.set_qty(cart, cart.lines[0].line_id, D(3)).lines[0].qty == 3


def test_half_a_box_is_refused(till: Till) -> None:
    with pytest.raises(CartError, match=r"whole Box: 0\.5"):
        till.add_item(till.new_cart(), "COFFEE", D("0.5"), uom="Box")


def test_the_scale_sells_kilograms_but_not_a_fraction_of_a_whole_unit(till: Till) -> None:
    cart = till.scan(till.new_cart(), WEIGHT.encode("04011", D("0.412")))
    assert cart.lines[0].qty == D("0.412")
    with pytest.raises(CartError, match="sold per Nos, but this label carries a weight"):
        till.scan(till.new_cart(), WEIGHT.encode("04050", D("1.234")))
    with pytest.raises(CartError, match="Melon is sold in whole Nos"):
        till.add_item(till.new_cart(), "MELON", D("1.234"))  # the scale's reading, keyed


def test_the_stock_unit_must_come_out_whole_too(till: Till) -> None:
    # ERPNext checks stock_qty = qty x conversion factor against the stock unit as well.
    with pytest.raises(CartError, match=r"Bun: 0\.3 Kg is 1\.2 Nos, which is counted in whole"):
        till.add_item(till.new_cart(), "BUN", D("0.3"), uom="Kg")
    assert till.add_item(till.new_cart(), "BUN", D("0.25"), uom="Kg").lines[0].qty == D("0.25")


def test_half_a_bag_cannot_come_back(till: Till) -> None:
    cart = till.add_item(till.new_cart(), "COFFEE", D(2))
    cart = carts.add_payment(cart, PaymentLine("Cash", D(50), type="Cash"))
    with pytest.raises(CartError, match=r"whole Nos: 0\.5 is not a whole number"):
        make_return(cart, "S1", {cart.lines[0].line_id: D("0.5")})
    back = make_return(cart, "S1", {cart.lines[0].line_id: D(1)})
    assert back.lines[0].qty == -1

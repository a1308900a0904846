"""The till joins scanning, pricing, item taxes and tax rules into cart changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from appliance.sales.barcode import EmbeddedLayout, ScanConfig
from appliance.sales.cart import CartError, TaxExemption, set_line_discount
from appliance.sales.catalog import (
    ApplyOn,
    Barcode,
    CatalogItem,
    CustomerGroup,
    CustomerInfo,
    ItemGroup,
    ItemPrice,
    ItemTaxRow,
    ItemTaxTemplate,
    MemoryCatalog,
    PricingRule,
    RuleTarget,
    TaxRule,
    TaxTemplate,
)
from appliance.sales.model import ChargeType, TaxLine, TotalsSettings
from appliance.sales.till import Till, TillProfile

GST, PST, HST = "GST - PPC", "PST - PPC", "HST - PPC"
BC = TaxTemplate(
    "BC",
    rows=(TaxLine(ChargeType.ON_NET_TOTAL, GST, D(5)), TaxLine(ChargeType.ON_NET_TOTAL, PST, D(7))),
)
ON = TaxTemplate("ON", rows=(TaxLine(ChargeType.ON_NET_TOTAL, HST, D(13)),))
EXEMPT = TaxTemplate("Exempt", rows=(), tax_category="Exempt")
LAYOUT = EmbeddedLayout.from_pattern("20IIIIIWWWWWC")

CATALOG = MemoryCatalog(
    items=[
        CatalogItem("COLA", "Cola 355ml", "Beverages", "Nos", uoms={"Box": D(12)}),
        CatalogItem("BOOK", "Atlas", "Books", "Nos"),
        CatalogItem("APPLE", "Gala Apples", "Produce", "Kg", is_weighed=True),
        CatalogItem("OLD", "Old Stock", "Beverages", "Nos", disabled=True),
    ],
    barcodes=[
        Barcode("0123456789012", "COLA"),
        Barcode("0123456789029", "COLA", uom="Box"),
        Barcode("4011", "APPLE"),
    ],
    prices=[
        ItemPrice("COLA", "Std", "Nos", D("1.25")),
        ItemPrice("BOOK", "Std", "Nos", D("24.95")),
        ItemPrice("APPLE", "Std", "Kg", D("3.99")),
    ],
    item_groups=[
        ItemGroup("All Item Groups"),
        ItemGroup("Beverages", "All Item Groups"),
        ItemGroup("Produce", "All Item Groups", taxes=(ItemTaxRow("Zero-rated"),)),
        ItemGroup("Books", "All Item Groups", taxes=(ItemTaxRow("No PST"),)),
    ],
    item_tax_templates=[
        ItemTaxTemplate("Zero-rated", {GST: D(0), PST: D(0), HST: D(0)}),
        ItemTaxTemplate("No PST", {PST: D(0)}),
    ],
    customers=[
        # ERPNext matches address-specific Tax Rules as wildcards for a customer with no address, so
        # the walk-in customer carries the store's own province.
        CustomerInfo(
            "Walk-in",
            customer_group="Individual",
            billing_state="British Columbia",
            billing_country="Canada",
        ),
        CustomerInfo(
            "Olu", customer_group="Individual", billing_state="Ontario", billing_country="Canada"
        ),
        CustomerInfo("Band Office", customer_group="Individual", tax_category="Exempt"),
    ],
    customer_groups=[
        CustomerGroup("All Customer Groups"),
        CustomerGroup("Individual", "All Customer Groups"),
    ],
    tax_rules=[
        TaxRule("R-ON", "ON", billing_state="Ontario"),
        TaxRule("R-EX", "Exempt", tax_category="Exempt"),
    ],
    tax_templates=[BC, ON, EXEMPT],
    pricing_rules=[
        PricingRule(
            "SIX-PACK",
            ApplyOn.ITEM_GROUP,
            "CAD",
            item_groups=(RuleTarget("Beverages"),),
            discount_percentage=D(10),
            min_qty=D(6),
            priority=1,
        )
    ],
)
PROFILE = TillProfile(
    name="Main POS",
    company="PPC",
    currency="CAD",
    price_list="Std",
    warehouse="Stores",
    walk_in_customer="Walk-in",
    settings=TotalsSettings(),
    taxes_and_charges="BC",
    scan=ScanConfig(layouts=(LAYOUT,)),
)


@pytest.fixture
def till() -> Till:
    return Till(CATALOG, PROFILE, date(2026, 11, 23))


def test_walk_in_sale_gets_the_profile_taxes_and_item_templates(till: Till) -> None:
    cart = till.new_cart()
    cart = till.scan(cart, "0123456789012")
    cart = till.add_item(cart, "BOOK")
    assert cart.totals is not None
    assert [t.tax_amount for t in cart.totals.taxes] == [D("1.31"), D("0.09")]  # no PST on books
    assert cart.lines[1].item_tax_template == "No PST"


def test_case_barcode_sells_a_box_at_twelve_units(till: Till) -> None:
    cart = till.scan(till.new_cart(), "0123456789029")
    assert cart.lines[0].uom == "Box"
    assert cart.lines[0].price_list_rate == D("15.00")
    # Twelve units reach the six-pack promotion's minimum (ERPNext counts stock units).
    assert cart.totals is not None and cart.totals.items[0].rate == D("13.50")


def test_weight_label_gives_the_weighed_quantity_zero_rated(till: Till) -> None:
    cart = till.scan(till.new_cart(), LAYOUT.encode("04011", D("0.735")))
    assert cart.lines[0].qty == D("0.735")
    assert cart.totals is not None
    assert cart.totals.total == D("2.93")
    assert cart.totals.total_taxes_and_charges == 0


def test_a_promotion_starts_at_its_minimum_quantity(till: Till) -> None:
    cart = till.scan(till.new_cart(), "0123456789012")
    assert cart.lines[0].discount_percentage == 0
    cart = till.set_qty(cart, 1, D(6))
    assert cart.lines[0].discount_percentage == D(10)
    assert cart.lines[0].pricing_rules == ("SIX-PACK",)
    cart = till.set_qty(cart, 1, D(2))
    assert cart.lines[0].discount_percentage == 0


def test_a_manual_discount_survives_repricing(till: Till) -> None:
    cart = till.scan(till.new_cart(), "0123456789012")
    cart = set_line_discount(cart, 1, D(50))
    cart = till.set_qty(cart, 1, D(7))
    assert cart.lines[0].discount_percentage == D(50)


def test_customer_province_and_exemption_change_the_taxes(till: Till) -> None:
    cart = till.scan(till.new_cart(), "0123456789012")
    ontario = till.set_customer(cart, "Olu")
    assert [t.account_head for t in ontario.taxes] == [HST]
    assert ontario.taxes_and_charges == "ON"
    taxed = till.set_customer(cart, "Band Office")  # exempt, but nobody approved it
    assert taxed.totals is not None and taxed.taxes
    assert taxed.totals.grand_total > D("1.25")  # taxed as the till's own category taxes it
    exempt = till.set_customer(cart, "Band Office", TaxExemption("CERT-7", "bo"))
    assert exempt.totals is not None and exempt.totals.grand_total == D("1.25")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("0123456789013", "Check digit"),
        ("4006381333931", "Unknown barcode 4006381333931"),
        ("4011", "Weigh it"),
    ],
)
def test_scans_that_give_no_line_say_why(till: Till, code: str, message: str) -> None:
    with pytest.raises(CartError, match=message):
        till.scan(till.new_cart(), code)


def test_disabled_item_and_unknown_customer_are_refused(till: Till) -> None:
    with pytest.raises(CartError, match="cannot be sold"):
        till.add_item(till.new_cart(), "OLD")
    with pytest.raises(CartError, match="not in this till's catalog"):
        till.set_customer(till.new_cart(), "Nobody")

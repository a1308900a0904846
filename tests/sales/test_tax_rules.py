"""Tax Rule selection (FACTS.md §3.8), tax category (§3.6) and Item Tax Templates (§3.7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from appliance.sales.catalog import (
    CatalogItem,
    CustomerGroup,
    CustomerInfo,
    ItemGroup,
    ItemTaxRow,
    ItemTaxTemplate,
    MemoryCatalog,
    MissingMasterError,
    TaxRule,
    TaxTemplate,
)
from appliance.sales.model import ChargeType, TaxLine
from appliance.sales.tax_rules import (
    TaxSource,
    choose_item_tax_template,
    choose_sales_taxes,
    resolve_tax_category,
    select_tax_rule,
    tax_context,
)

D = Decimal
TODAY = date(2025, 11, 20)


def _template(name: str, rate: str, disabled: bool = False) -> TaxTemplate:
    row = TaxLine(ChargeType.ON_NET_TOTAL, f"{name} - PTC", rate=D(rate))
    return TaxTemplate(name, rows=(row,), disabled=disabled)


TEMPLATES = [
    _template("GST", "5"),
    _template("HST ON", "13"),
    _template("Exempt", "0"),
    _template("GST+PST Commercial", "12"),
    _template("Old HST", "15", disabled=True),
]
CUSTOMER_GROUPS = [
    CustomerGroup("All Customer Groups"),
    CustomerGroup("Commercial", "All Customer Groups"),
    CustomerGroup("Wholesale Buyers", "Commercial"),
    CustomerGroup("Individual", "All Customer Groups"),
]
GENERIC = TaxRule("TR-GENERIC", "GST")
ONTARIO = TaxRule("TR-ON", "HST ON", billing_state="Ontario", billing_country="Canada")

ON_CUSTOMER = CustomerInfo(
    "Ann",
    customer_group="Individual",
    billing_city="Toronto",
    billing_state="Ontario",
    billing_country="Canada",
)
BC_CUSTOMER = replace(ON_CUSTOMER, name="Bo", billing_city="Victoria", billing_state="BC")


def _catalog(*rules: TaxRule) -> MemoryCatalog:
    return MemoryCatalog(tax_rules=rules, tax_templates=TEMPLATES, customer_groups=CUSTOMER_GROUPS)


def _winner(customer: CustomerInfo, *rules: TaxRule, profile_category: str = "") -> str | None:
    catalog = _catalog(*rules)
    ctx = tax_context(
        catalog,
        customer,
        posting_date=TODAY,
        company="PTC",
        pos_profile_tax_category=profile_category,
    )
    rule = select_tax_rule(catalog.tax_rules(), ctx)
    return rule.name if rule else None


def test_province_rule_beats_generic_rule() -> None:
    assert _winner(ON_CUSTOMER, GENERIC, ONTARIO) == "TR-ON"
    assert _winner(ON_CUSTOMER, ONTARIO, GENERIC) == "TR-ON"
    assert _winner(BC_CUSTOMER, GENERIC, ONTARIO) == "TR-GENERIC"


def test_address_values_compare_like_mariadb() -> None:
    quebec = TaxRule("TR-QC", "GST", billing_state="Quebec")
    customer = replace(ON_CUSTOMER, billing_state="QUÉBEC ")
    assert _winner(customer, GENERIC, quebec) == "TR-QC"


def test_customer_without_address_leaves_address_keys_out() -> None:
    # ERPNext does not pass billing_* at all then: the Ontario rule still matches but scores 0.
    nowhere = CustomerInfo("Cash", customer_group="Individual")
    assert _winner(nowhere, ONTARIO) == "TR-ON"
    assert _winner(nowhere, ONTARIO, replace(GENERIC, priority=2)) == "TR-GENERIC"


def test_tax_category_must_match_exactly() -> None:
    exempt = TaxRule("TR-EXEMPT", "Exempt", tax_category="Exempt")
    exempt_customer = replace(ON_CUSTOMER, tax_category="Exempt")
    assert _winner(exempt_customer, GENERIC, ONTARIO, exempt) == "TR-EXEMPT"
    assert _winner(ON_CUSTOMER, exempt) is None
    assert _winner(exempt_customer, GENERIC, ONTARIO) is None


def test_profile_category_applies_only_without_a_customer_one() -> None:
    exempt = TaxRule("TR-EXEMPT", "Exempt", tax_category="Exempt")
    assert _winner(ON_CUSTOMER, GENERIC, exempt, profile_category="Exempt") == "TR-EXEMPT"
    taxed = replace(ON_CUSTOMER, tax_category="Taxable")
    assert _winner(taxed, GENERIC, exempt, profile_category="Exempt") is None


def test_customer_group_matches_through_ancestors() -> None:
    commercial = TaxRule("TR-COMM", "GST+PST Commercial", customer_group="Commercial")
    buyer = replace(BC_CUSTOMER, customer_group="Wholesale Buyers")
    assert _winner(buyer, GENERIC, commercial) == "TR-COMM"
    assert _winner(BC_CUSTOMER, GENERIC, commercial) == "TR-GENERIC"


def test_more_keys_beat_priority() -> None:
    province = replace(ONTARIO, priority=1)
    generic = replace(GENERIC, priority=20)
    assert _winner(ON_CUSTOMER, generic, province) == "TR-ON"


def test_priority_breaks_a_tie_in_keys() -> None:
    city = TaxRule("TR-CITY", "GST", billing_city="Toronto", priority=1)
    state = TaxRule("TR-STATE", "HST ON", billing_state="Ontario", priority=5)
    assert _winner(ON_CUSTOMER, city, state) == "TR-STATE"
    assert _winner(ON_CUSTOMER, replace(city, priority=6), state) == "TR-CITY"


def test_customer_and_company_keys() -> None:
    own = TaxRule("TR-ANN", "Exempt", customer="Ann")
    other_company = TaxRule("TR-OTHER-CO", "HST ON", company="Other Co", billing_state="Ontario")
    assert _winner(ON_CUSTOMER, GENERIC, own) == "TR-ANN"
    assert _winner(BC_CUSTOMER, GENERIC, own) == "TR-GENERIC"
    assert _winner(ON_CUSTOMER, GENERIC, other_company) == "TR-GENERIC"


def test_date_window() -> None:
    expired = replace(ONTARIO, to_date=date(2025, 11, 19))
    starts = replace(ONTARIO, name="TR-ON-NEXT", from_date=date(2025, 11, 21))
    assert _winner(ON_CUSTOMER, GENERIC, expired, starts) == "TR-GENERIC"
    today = replace(ONTARIO, from_date=TODAY, to_date=TODAY)
    assert _winner(ON_CUSTOMER, GENERIC, today) == "TR-ON"


def _choice(customer: CustomerInfo, *rules: TaxRule, profile: str = "") -> tuple[TaxSource, str]:
    catalog = _catalog(*rules)
    ctx = tax_context(catalog, customer, posting_date=TODAY, company="PTC")
    choice = choose_sales_taxes(catalog, ctx, profile)
    return choice.source, choice.template.name if choice.template else ""


def test_choose_sales_taxes_uses_the_rule_then_the_profile() -> None:
    assert _choice(ON_CUSTOMER, GENERIC, ONTARIO, profile="GST") == (TaxSource.TAX_RULE, "HST ON")
    assert _choice(ON_CUSTOMER, profile="GST") == (TaxSource.POS_PROFILE, "GST")
    assert _choice(ON_CUSTOMER) == (TaxSource.NONE, "")


def test_disabled_winner_gives_no_template_and_no_fall_through() -> None:
    old = replace(ONTARIO, name="TR-OLD", sales_tax_template="Old HST", priority=9)
    catalog = _catalog(GENERIC, ONTARIO, old)
    ctx = tax_context(catalog, ON_CUSTOMER, posting_date=TODAY)
    rule = select_tax_rule(catalog.tax_rules(), ctx)
    assert rule is not None and rule.name == "TR-OLD"
    choice = choose_sales_taxes(catalog, ctx)
    assert (choice.source, choice.template, choice.rule) == (TaxSource.NONE, None, "TR-OLD")
    assert choice.rows == ()
    with_profile = choose_sales_taxes(catalog, ctx, "GST")
    assert with_profile.source is TaxSource.POS_PROFILE
    assert with_profile.rows[0].rate == 5


def test_a_template_missing_from_the_catalog_is_loud() -> None:
    catalog = _catalog(TaxRule("TR-X", "Not Synced"))
    ctx = tax_context(catalog, ON_CUSTOMER, posting_date=TODAY)
    with pytest.raises(MissingMasterError, match="Not Synced"):
        choose_sales_taxes(catalog, ctx)


def test_resolve_tax_category() -> None:
    both = CustomerInfo("A", tax_category="Retail", address_tax_category="Out of Province")
    assert resolve_tax_category(both, "Profile") == "Out of Province"
    assert resolve_tax_category(replace(both, address_tax_category=""), "Profile") == "Retail"
    assert resolve_tax_category(CustomerInfo("B"), "Profile") == "Profile"
    assert resolve_tax_category(None) == ""


# --- item tax templates -------------------------------------------------------------------

ITEM_TAX_TEMPLATES = [
    ItemTaxTemplate("Zero Rated", {"GST - PTC": D(0), "PST - PTC": D(0)}),
    ItemTaxTemplate("Reduced", {"GST - PTC": D("2.5")}),
    ItemTaxTemplate("Children Clothing", {"PST - PTC": D(0)}),
    ItemTaxTemplate("Exempt Category", {"GST - PTC": D(0)}),
    ItemTaxTemplate("Retired", {"GST - PTC": D(1)}, disabled=True),
]
ITEM_GROUPS = [
    ItemGroup("All Item Groups"),
    ItemGroup("Food", "All Item Groups", taxes=(ItemTaxRow("Zero Rated"),)),
    ItemGroup("Fruit", "Food"),
    ItemGroup("Apparel", "All Item Groups"),
]


def _item_tax(
    item: CatalogItem,
    *,
    category: str = "",
    net_rate: str = "10",
    current: str | None = None,
) -> str | None:
    catalog = MemoryCatalog(
        items=[item], item_groups=ITEM_GROUPS, item_tax_templates=ITEM_TAX_TEMPLATES
    )
    choice = choose_item_tax_template(
        catalog,
        item,
        posting_date=TODAY,
        tax_category=category,
        net_rate=D(net_rate),
        current=current,
    )
    if choice.template is not None:
        expected = {t.name: t.rates for t in ITEM_TAX_TEMPLATES}[choice.template]
        assert choice.rates == expected
    return choice.template


def test_item_group_tree_supplies_the_template() -> None:
    apple = CatalogItem("APPLE", "Apple", "Fruit", "Kg")
    assert _item_tax(apple) == "Zero Rated"
    assert _item_tax(CatalogItem("HAT", "Hat", "Apparel", "Nos")) is None


def test_item_rows_pick_by_tax_category() -> None:
    item = CatalogItem(
        "BREAD",
        "Bread",
        "Food",
        "Nos",
        taxes=(ItemTaxRow("Reduced"), ItemTaxRow("Exempt Category", tax_category="Exempt")),
    )
    assert _item_tax(item) == "Reduced"
    assert _item_tax(item, category="Exempt") == "Exempt Category"
    # No item row for this category: the group's row (empty category) does not match either.
    assert _item_tax(item, category="Other") is None


def test_item_rows_that_yield_nothing_fall_back_to_the_group() -> None:
    item = CatalogItem(
        "JAM", "Jam", "Fruit", "Nos", taxes=(ItemTaxRow("Reduced", tax_category="Exempt"),)
    )
    assert _item_tax(item) == "Zero Rated"


def test_validity_and_net_rate_range() -> None:
    item = CatalogItem(
        "KID-TEE",
        "Kids tee",
        "Apparel",
        "Nos",
        taxes=(
            ItemTaxRow("Reduced"),
            ItemTaxRow("Children Clothing", maximum_net_rate=D(100)),
            ItemTaxRow("Zero Rated", valid_from=date(2026, 1, 1)),
        ),
    )
    assert _item_tax(item, net_rate="40") == "Children Clothing"
    assert _item_tax(item, net_rate="150") == "Reduced"


def test_newest_valid_from_first() -> None:
    item = CatalogItem(
        "MILK",
        "Milk",
        "Apparel",
        "Nos",
        taxes=(
            ItemTaxRow("Reduced", valid_from=date(2024, 1, 1)),
            ItemTaxRow("Zero Rated", valid_from=date(2025, 7, 1)),
        ),
    )
    assert _item_tax(item) == "Zero Rated"
    assert _item_tax(item, current="Reduced") == "Reduced"


def test_disabled_item_tax_template_is_skipped() -> None:
    item = CatalogItem(
        "OLD", "Old", "Apparel", "Nos", taxes=(ItemTaxRow("Retired"), ItemTaxRow("Reduced"))
    )
    assert _item_tax(item) == "Reduced"
    assert _item_tax(item, current="Retired") == "Reduced"

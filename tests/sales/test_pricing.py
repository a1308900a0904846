"""Item prices and Pricing Rules (FACTS.md §3.5, §3.9)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from appliance.sales.catalog import (
    ApplyOn,
    CatalogItem,
    CustomerGroup,
    CustomerInfo,
    ItemGroup,
    ItemPrice,
    MemoryCatalog,
    PriceOrProduct,
    PricingRule,
    RateOrDiscount,
    RuleTarget,
    Territory,
)
from appliance.sales.pricing import (
    PricedLine,
    PricingConflict,
    PricingContext,
    check_max_discount,
    choose_price_list,
    find_list_price,
    price_line,
    pricing_context,
)

D = Decimal
TODAY = date(2025, 11, 20)
SOAP = CatalogItem(
    "SOAP", "Soap", "Cleaning", "Nos", brand="Acme", uoms={"Box": D(12)}, max_discount=D(10)
)
SHIRT_M = CatalogItem("SHIRT-M", "Shirt M", "Apparel", "Nos", variant_of="SHIRT")

GROUPS = [
    ItemGroup("All Item Groups"),
    ItemGroup("Household", "All Item Groups"),
    ItemGroup("Cleaning", "Household"),
    ItemGroup("Apparel", "All Item Groups"),
]
CUSTOMER_GROUPS = [
    CustomerGroup("All Customer Groups"),
    CustomerGroup("Commercial", "All Customer Groups", default_price_list="Wholesale"),
    CustomerGroup("Retail", "All Customer Groups"),
    CustomerGroup("Members", "Retail"),
]
TERRITORIES = [Territory("All Territories"), Territory("Canada", "All Territories")]
PRICES = [
    ItemPrice("SOAP", "Standard Selling", "Nos", D("2.50")),
    ItemPrice("SOAP", "Standard Selling", "Nos", D("2.40"), customer="ACME Hotel"),
    ItemPrice("SOAP", "Standard Selling", "Nos", D("9.99"), valid_upto=date(2025, 1, 31)),
    ItemPrice("SOAP", "Wholesale", "Nos", D("2.00")),
    ItemPrice("SHIRT", "Standard Selling", "Nos", D("20.00")),
]
MEMBER = CustomerInfo("Ann", customer_group="Members", territory="Canada")


def _rule(name: str, **kwargs: object) -> PricingRule:
    fields: dict[str, object] = {
        "name": name,
        "apply_on": ApplyOn.ITEM_CODE,
        "currency": "CAD",
        "items": (RuleTarget("SOAP"),),
    }
    fields.update(kwargs)
    return PricingRule(**fields)  # type: ignore[arg-type]


def _catalog(*rules: PricingRule, prices: list[ItemPrice] | None = None) -> MemoryCatalog:
    return MemoryCatalog(
        items=[SOAP, SHIRT_M],
        prices=PRICES if prices is None else prices,
        item_groups=GROUPS,
        customer_groups=CUSTOMER_GROUPS,
        territories=TERRITORIES,
        pricing_rules=rules,
    )


def _ctx(catalog: MemoryCatalog, customer: CustomerInfo | None = MEMBER) -> PricingContext:
    return pricing_context(
        catalog,
        customer,
        posting_date=TODAY,
        currency="CAD",
        pos_profile_price_list="Standard Selling",
    )


def _price(
    *rules: PricingRule, qty: str = "1", uom: str = "Nos", customer: CustomerInfo | None = MEMBER
) -> PricedLine:
    catalog = _catalog(*rules)
    result = price_line(catalog, _ctx(catalog, customer), SOAP, uom, D(qty))
    assert isinstance(result, PricedLine), result
    return result


# --- list prices ----------------------------------------------------------------------------


def test_general_price_skips_expired_rows() -> None:
    line = _price()
    assert line.price_list_rate == D("2.50")
    assert line.discount_percentage == 0
    assert line.rate is None
    assert line.pricing_rules == ()


def test_customer_specific_price_comes_first() -> None:
    line = _price(customer=CustomerInfo("ACME Hotel", customer_group="Retail"))
    assert line.price_list_rate == D("2.40")


def test_uom_without_its_own_price_uses_stock_price_times_factor() -> None:
    assert _price(uom="Box").price_list_rate == D("30.00")


def test_uom_with_its_own_price_uses_it_as_is() -> None:
    prices = [*PRICES, ItemPrice("SOAP", "Standard Selling", "Box", D("27.00"))]
    found = find_list_price(
        _catalog(prices=prices), SOAP, "Box", price_list="Standard Selling", posting_date=TODAY
    )
    assert found is not None
    assert found.price_list_rate == D("27.00")


def test_newest_valid_from_wins() -> None:
    prices = [
        ItemPrice("SOAP", "Standard Selling", "Nos", D("2.50"), valid_from=date(2025, 1, 1)),
        ItemPrice("SOAP", "Standard Selling", "Nos", D("2.70"), valid_from=date(2025, 11, 1)),
        ItemPrice("SOAP", "Standard Selling", "Nos", D("2.90"), valid_from=date(2025, 12, 1)),
    ]
    found = find_list_price(
        _catalog(prices=prices), SOAP, "Nos", price_list="Standard Selling", posting_date=TODAY
    )
    assert found is not None
    assert found.price_list_rate == D("2.70")


def test_variant_takes_its_template_price() -> None:
    found = find_list_price(
        _catalog(), SHIRT_M, "Nos", price_list="Standard Selling", posting_date=TODAY
    )
    assert found is not None
    assert found.price_list_rate == D("20.00")


def test_price_list_choice_order() -> None:
    catalog = _catalog()
    own = CustomerInfo("A", customer_group="Commercial", default_price_list="VIP")
    assert choose_price_list(catalog, own, "Standard Selling") == "VIP"
    grouped = CustomerInfo("B", customer_group="Commercial")
    assert choose_price_list(catalog, grouped, "Standard Selling") == "Wholesale"
    unknown_group = CustomerInfo("C", customer_group="Not Synced")
    assert choose_price_list(catalog, unknown_group, "Standard Selling") == "Standard Selling"
    assert choose_price_list(catalog, None, "Standard Selling") == "Standard Selling"
    assert _price(customer=grouped).price_list_rate == D("2.00")


# --- pricing rules --------------------------------------------------------------------------


def test_discount_percentage_is_left_unrounded_for_the_totals_engine() -> None:
    line = _price(_rule("PR-1", discount_percentage=D("12.5")))
    assert (line.price_list_rate, line.discount_percentage, line.rate) == (
        D("2.50"),
        D("12.5"),
        None,
    )
    assert line.discount_amount == D("0.3125")
    assert line.pricing_rules == ("PR-1",)
    item_line = line.item_line(D(3), item_name="Soap")
    assert (item_line.rate, item_line.price_list_rate, item_line.discount_percentage) == (
        None,
        D("2.50"),
        D("12.5"),
    )


def test_item_rule_beats_group_rule() -> None:
    group = _rule(
        "PR-GROUP",
        apply_on=ApplyOn.ITEM_GROUP,
        items=(),
        item_groups=(RuleTarget("Household"),),
        discount_percentage=D(20),
        priority=5,
    )
    item = _rule("PR-ITEM", discount_percentage=D(5))
    assert _price(group, item).pricing_rules == ("PR-ITEM",)
    assert _price(group).pricing_rules == ("PR-GROUP",)


def test_brand_rule_applies_when_nothing_more_specific_does() -> None:
    brand = _rule(
        "PR-BRAND",
        apply_on=ApplyOn.BRAND,
        items=(),
        brands=(RuleTarget("Acme"),),
        discount_percentage=D(3),
    )
    assert _price(brand).discount_percentage == 3


def test_min_qty_and_max_qty() -> None:
    bulk = _rule("PR-BULK", discount_percentage=D(10), min_qty=D(6), max_qty=D(24))
    assert _price(bulk, qty="5").pricing_rules == ()
    assert _price(bulk, qty="6").pricing_rules == ("PR-BULK",)
    assert _price(bulk, qty="25").pricing_rules == ()
    # 1 Box = 12 Nos counts as 12 in stock units.
    assert _price(bulk, qty="1", uom="Box").pricing_rules == ("PR-BULK",)


def test_min_qty_in_the_rule_row_uom() -> None:
    boxes = _rule(
        "PR-BOXES", items=(RuleTarget("SOAP", uom="Box"),), discount_percentage=D(8), min_qty=D(2)
    )
    assert _price(boxes, qty="1", uom="Box").pricing_rules == ()
    assert _price(boxes, qty="2", uom="Box").pricing_rules == ("PR-BOXES",)
    assert _price(boxes, qty="30", uom="Nos").pricing_rules == ()  # row is for Box only


def test_unmet_item_rule_hides_group_rules_as_in_erpnext() -> None:
    bulk = _rule("PR-BULK", discount_percentage=D(10), min_qty=D(6))
    group = _rule(
        "PR-GROUP",
        apply_on=ApplyOn.ITEM_GROUP,
        items=(),
        item_groups=(RuleTarget("Cleaning"),),
        discount_percentage=D(2),
    )
    assert _price(bulk, group, qty="1").pricing_rules == ()


def test_has_priority_lets_lower_levels_compete() -> None:
    item = _rule("PR-ITEM", discount_percentage=D(5), priority=1, has_priority=True)
    group = _rule(
        "PR-GROUP",
        apply_on=ApplyOn.ITEM_GROUP,
        items=(),
        item_groups=(RuleTarget("Cleaning"),),
        discount_percentage=D(7),
        priority=3,
    )
    assert _price(item, group).pricing_rules == ("PR-GROUP",)


def test_min_amount() -> None:
    big = _rule("PR-BIG", discount_percentage=D(10), min_amt=D(10))
    assert _price(big, qty="3").pricing_rules == ()
    assert _price(big, qty="4").pricing_rules == ("PR-BIG",)


def test_validity_dates() -> None:
    past = _rule("PR-PAST", discount_percentage=D(10), valid_upto=date(2025, 11, 19))
    future = _rule("PR-FUTURE", discount_percentage=D(10), valid_from=date(2025, 11, 21))
    today = _rule("PR-TODAY", discount_percentage=D(10), valid_from=TODAY, valid_upto=TODAY)
    assert _price(past, future).pricing_rules == ()
    assert _price(past, future, today).pricing_rules == ("PR-TODAY",)


def test_customer_group_and_territory_use_ancestors() -> None:
    retail = _rule("PR-RETAIL", customer_group="Retail", discount_percentage=D(4))
    commercial = _rule("PR-COMM", customer_group="Commercial", discount_percentage=D(9))
    canada = _rule("PR-CA", territory="Canada", discount_percentage=D(1), priority=2)
    assert _price(retail, commercial).pricing_rules == ("PR-RETAIL",)
    assert _price(commercial).pricing_rules == ()
    assert _price(canada, retail).pricing_rules == ("PR-CA",)
    assert _price(retail, customer=None).pricing_rules == ()


def test_customer_and_price_list_filters() -> None:
    only_bob = _rule("PR-BOB", customer="Bob", discount_percentage=D(50))
    wholesale = _rule("PR-WS", for_price_list="Wholesale", discount_percentage=D(50))
    assert _price(only_bob, wholesale).pricing_rules == ()


def test_priority_breaks_a_tie_and_equal_priority_is_a_conflict() -> None:
    low = _rule("PR-LOW", discount_percentage=D(5), priority=1)
    high = _rule("PR-HIGH", discount_percentage=D(7), priority=2)
    assert _price(low, high).pricing_rules == ("PR-HIGH",)

    twin = _rule("PR-TWIN", discount_percentage=D(6), priority=2)
    catalog = _catalog(low, high, twin)
    result = price_line(catalog, _ctx(catalog), SOAP, "Nos", D(1))
    assert isinstance(result, PricingConflict)
    assert set(result.rules) == {"PR-HIGH", "PR-TWIN"}
    assert "PR-HIGH" in result.message and "PR-TWIN" in result.message
    assert "priority" in result.message


def test_unprioritised_rules_conflict_unless_one_names_the_price_list() -> None:
    a = _rule("PR-A", discount_percentage=D(5))
    b = _rule("PR-B", discount_percentage=D(6), for_price_list="Standard Selling")
    assert _price(a, b).pricing_rules == ("PR-B",)
    catalog = _catalog(a, replace(b, for_price_list=""))
    assert isinstance(price_line(catalog, _ctx(catalog), SOAP, "Nos", D(1)), PricingConflict)


def test_rules_in_the_invoice_currency_are_preferred() -> None:
    usd = _rule("PR-USD", discount_percentage=D(5), currency="USD")
    cad = _rule("PR-CAD", discount_percentage=D(6))
    assert _price(usd, cad).pricing_rules == ("PR-CAD",)


def test_apply_multiple_pricing_rules_stacks_discounts() -> None:
    a = _rule("PR-A", discount_percentage=D(10), apply_multiple_pricing_rules=True, priority=1)
    b = _rule("PR-B", discount_percentage=D(5), apply_multiple_pricing_rules=True, priority=2)
    line = _price(a, b)
    assert line.pricing_rules == ("PR-A", "PR-B")
    assert line.discount_percentage == 15
    compounding = replace(b, apply_discount_on_rate=True)
    assert _price(a, compounding).discount_percentage == D("14.5")


def test_rate_rule_replaces_the_list_price() -> None:
    line = _price(_rule("PR-RATE", rate_or_discount=RateOrDiscount.RATE, rate=D("1.99")))
    assert (line.price_list_rate, line.discount_percentage, line.rate) == (
        D("1.99"),
        D(0),
        D("1.99"),
    )
    boxed = _price(
        _rule("PR-RATE", rate_or_discount=RateOrDiscount.RATE, rate=D("1.99")), uom="Box"
    )
    assert boxed.price_list_rate == D("23.88")


def test_discount_amount_fixes_the_rate() -> None:
    line = _price(
        _rule("PR-AMT", rate_or_discount=RateOrDiscount.DISCOUNT_AMOUNT, discount_amount=D("0.30"))
    )
    assert (line.price_list_rate, line.discount_amount, line.rate) == (
        D("2.50"),
        D("0.30"),
        D("2.20"),
    )
    assert line.discount_percentage == 0


def test_ignore_pricing_rule() -> None:
    catalog = _catalog(_rule("PR-1", discount_percentage=D(10)))
    ctx = replace(_ctx(catalog), ignore_pricing_rule=True)
    result = price_line(catalog, ctx, SOAP, "Nos", D(1))
    assert isinstance(result, PricedLine)
    assert result.pricing_rules == ()


def test_rules_we_cannot_evaluate_are_reported_not_applied() -> None:
    scripted = _rule("PR-COND", discount_percentage=D(10), condition="doc.total > 100")
    # A product rule that names no free item: ERPNext refuses the sale, the till skips it.
    free = _rule("PR-FREE", price_or_product_discount=PriceOrProduct.PRODUCT, priority=3)
    assert _price(scripted).unsupported_rules == ("PR-COND",)
    line = _price(free)
    assert (line.pricing_rules, line.unsupported_rules) == ((), ("PR-FREE",))


def test_unknown_uom_is_a_programming_error() -> None:
    catalog = _catalog()
    with pytest.raises(ValueError, match="Pallet"):
        price_line(catalog, _ctx(catalog), SOAP, "Pallet", D(1))


def test_max_discount_check() -> None:
    assert check_max_discount(SOAP, D(10)) is None
    exceeded = check_max_discount(SOAP, D("12.5"))
    assert exceeded is not None
    assert exceeded.message.startswith("Maximum discount for SOAP is 10%")
    assert check_max_discount(SHIRT_M, D(90)) is None

"""MemoryCatalog: the in-memory Catalog used by tests and the CLI."""

from __future__ import annotations

from decimal import Decimal

from appliance.sales.catalog import (
    ApplyOn,
    Barcode,
    Catalog,
    CatalogItem,
    CustomerGroup,
    ItemGroup,
    MemoryCatalog,
    PricingRule,
    RuleTarget,
    chain_names,
)


def _catalog() -> MemoryCatalog:
    return MemoryCatalog(
        items=[
            CatalogItem("APPLE", "Red apple", "Fruit", "Kg"),
            CatalogItem("PEAR", "Pear", "Fruit", "Kg", brand="Orchard"),
            CatalogItem("GONE", "Apple pie (old)", "Bakery", "Nos", disabled=True),
            CatalogItem("TEE", "Apple tee", "Apparel", "Nos", has_variants=True),
        ],
        barcodes=[Barcode("4006381333931", "PEAR", uom="Box")],
        item_groups=[
            ItemGroup("All Item Groups"),
            ItemGroup("Food", "All Item Groups"),
            ItemGroup("Fruit", "Food"),
            ItemGroup("Loop A", "Loop B"),
            ItemGroup("Loop B", "Loop A"),
        ],
        customer_groups=[
            CustomerGroup("All Customer Groups"),
            CustomerGroup("Retail", "All Customer Groups"),
        ],
        pricing_rules=[
            PricingRule("R-ITEM", ApplyOn.ITEM_CODE, "CAD", items=(RuleTarget("APPLE"),)),
            PricingRule("R-FOOD", ApplyOn.ITEM_GROUP, "CAD", item_groups=(RuleTarget("Food"),)),
            PricingRule("R-BRAND", ApplyOn.BRAND, "CAD", brands=(RuleTarget("Orchard"),)),
            PricingRule(
                "R-OFF", ApplyOn.ITEM_CODE, "CAD", items=(RuleTarget("APPLE"),), disable=True
            ),
        ],
    )


def test_memory_catalog_satisfies_the_protocol() -> None:
    catalog: Catalog = _catalog()
    assert catalog.item("APPLE") is not None


def test_barcode_gives_item_and_uom() -> None:
    hit = _catalog().item_by_barcode("4006381333931")
    assert hit is not None
    assert (hit[0].item_code, hit[1]) == ("PEAR", "Box")
    assert _catalog().item_by_barcode("nope") is None


def test_search_skips_disabled_and_templates_and_ranks_prefixes_first() -> None:
    found = _catalog().search_items("apple", 10)
    assert [i.item_code for i in found] == ["APPLE"]
    assert [i.item_code for i in _catalog().search_items("pear", 1)] == ["PEAR"]
    assert [i.item_code for i in _catalog().search_items("40063", 5)] == ["PEAR"]


def test_ancestors_walk_to_the_root_and_survive_loops() -> None:
    catalog = _catalog()
    assert [g.name for g in catalog.item_group_ancestors("Fruit")] == [
        "Fruit",
        "Food",
        "All Item Groups",
    ]
    assert [g.name for g in catalog.item_group_ancestors("Loop A")] == ["Loop A", "Loop B"]
    assert catalog.item_group_ancestors("Unknown") == ()
    assert chain_names(catalog.customer_group_ancestors("Unknown"), "Unknown") == ("Unknown",)


def test_pricing_rules_for_matches_code_group_and_brand() -> None:
    rules = _catalog().pricing_rules_for("PEAR", ("Fruit", "Food", "All Item Groups"), "Orchard")
    assert sorted(r.name for r in rules) == ["R-BRAND", "R-FOOD"]
    rules = _catalog().pricing_rules_for("APPLE", ("Fruit",), "")
    assert [r.name for r in rules] == ["R-ITEM"]


def test_conversion_factor() -> None:
    item = CatalogItem("X", "X", "G", "Nos", uoms={"Box": Decimal(12)})
    assert item.conversion_factor("Nos") == 1
    assert item.conversion_factor("Box") == 12
    assert item.conversion_factor("Pallet") is None

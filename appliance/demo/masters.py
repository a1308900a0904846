"""Demo masters, shaped exactly as ERPNext's REST API returns them (doctype JSON with children).

The demo store and the benchmarks load these through the same code path as a real pull, so the
demo exercises what production runs. Everything is derived from a seed: the same seed gives the
same catalog, byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from appliance.sales.barcode import gtin_check_digit

Doc = dict[str, Any]

COMPANY = "Prairie Pine Co"
ABBR = "PPC"
CURRENCY = "CAD"
PRICE_LIST = "Standard Selling"
WAREHOUSE = f"Stores - {ABBR}"
POS_PROFILE = "Main POS"
WALK_IN = "Walk-in Customer"
MODIFIED = "2026-11-01 08:00:00.000000"

ACC_GST = f"GST Payable - {ABBR}"
ACC_PST = f"PST Payable - {ABBR}"
ACC_HST = f"HST Payable - {ABBR}"
ACC_QST = f"QST Payable - {ABBR}"
ACC_LEVY = f"Carbon Levy Payable - {ABBR}"
LEVY_PER_LITRE = 0.1761

PROVINCES: dict[str, tuple[str, list[tuple[str, float]]]] = {
    # province: (template title, [(tax account, rate %)])
    "British Columbia": ("BC GST+PST", [(ACC_GST, 5), (ACC_PST, 7)]),
    "Ontario": ("ON HST", [(ACC_HST, 13)]),
    "Quebec": ("QC GST+QST", [(ACC_GST, 5), (ACC_QST, 9.975)]),
    "Alberta": ("AB GST", [(ACC_GST, 5)]),
}
HOME_PROVINCE = "British Columbia"
EXEMPT_CATEGORY = "Tax Exempt"

# group: (parent, weighed, stock uom, price range, item tax template)
GROUPS: dict[str, tuple[str, bool, str, tuple[float, float], str | None]] = {
    "Grocery": ("All Item Groups", False, "Nos", (0.99, 19.99), None),
    "Produce": ("Grocery", True, "Kg", (0.99, 12.99), "Zero-rated food"),
    "Dairy": ("Grocery", False, "Nos", (1.29, 14.99), "Zero-rated food"),
    "Bakery": ("Grocery", False, "Nos", (1.49, 9.99), "Zero-rated food"),
    "Pantry": ("Grocery", False, "Nos", (0.99, 24.99), "Zero-rated food"),
    "Snacks": ("Grocery", False, "Nos", (0.99, 8.99), "No fuel levy"),
    "Beverages": ("All Item Groups", False, "Nos", (0.99, 39.99), "No fuel levy"),
    "Household": ("All Item Groups", False, "Nos", (1.99, 89.99), "No fuel levy"),
    "Hardware": ("All Item Groups", False, "Nos", (0.49, 249.99), "No fuel levy"),
    "Books": ("All Item Groups", False, "Nos", (4.99, 59.99), "Books (PST exempt)"),
    "Fuel": ("All Item Groups", False, "Litre", (1.499, 1.899), None),
}
BRANDS = ["Northwind", "Maple Leaf", "Coastline", "Prairie Gold", "Ironwood", "Kestrel"]
ADJECTIVES = [
    "Organic",
    "Classic",
    "Fresh",
    "Smoked",
    "Spicy",
    "Golden",
    "Wild",
    "Crisp",
    "Sweet",
    "Roasted",
    "Rustic",
    "Light",
    "Extra",
    "Mild",
    "Sharp",
    "Tangy",
    "Hearty",
    "Pure",
]
NOUNS = {
    "Produce": ["Apples", "Bananas", "Carrots", "Potatoes", "Onions", "Tomatoes", "Pears", "Kale"],
    "Dairy": ["Milk 2L", "Yogurt", "Cheddar", "Butter", "Cream", "Kefir", "Feta"],
    "Bakery": ["Sourdough", "Bagels", "Muffins", "Baguette", "Croissants", "Rye Bread"],
    "Pantry": ["Rice", "Pasta", "Oats", "Flour", "Lentils", "Honey", "Olive Oil", "Soup"],
    "Snacks": ["Chips", "Pretzels", "Cookies", "Granola Bars", "Popcorn", "Crackers"],
    "Beverages": ["Cola", "Sparkling Water", "Iced Tea", "Coffee Beans", "Orange Juice"],
    "Household": ["Dish Soap", "Paper Towels", "Detergent", "Sponges", "Trash Bags"],
    "Hardware": ["Hammer", "Screws", "Duct Tape", "Flashlight", "Batteries", "Pliers"],
    "Books": ["Atlas", "Cookbook", "Field Guide", "Novel", "Puzzle Book"],
    "Fuel": ["Regular Gasoline", "Premium Gasoline", "Diesel"],
}
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farah", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lea"]
LAST = ["Nguyen", "Tremblay", "Singh", "Martin", "Roy", "Wong", "Gagnon", "Smith", "Li", "Cote"]
CUSTOMER_GROUPS = ["Individual", "Commercial", "Non Profit"]


@dataclass(frozen=True)
class DemoSize:
    items: int = 2_400
    extra_barcodes: int = 1_200  # case barcodes on top of one barcode per item
    customers: int = 600
    seed: int = 7


def ean13(body12: str) -> str:
    return body12 + str(gtin_check_digit(body12))


def _meta(doctype: str, name: str, **fields: Any) -> Doc:
    return {"doctype": doctype, "name": name, "modified": MODIFIED, **fields}


def settings_docs() -> list[Doc]:
    return [
        _meta(
            "System Settings",
            "System Settings",
            rounding_method="Banker's Rounding",
            currency_precision="2",
            float_precision="3",
            number_format="#,###.##",
            time_zone="America/Vancouver",
            country="Canada",
        ),
        _meta(
            "Global Defaults", "Global Defaults", disable_rounded_total=0, default_currency=CURRENCY
        ),
        # Canada withdrew the cent: cash totals round to the nickel.
        _meta("Currency", CURRENCY, smallest_currency_fraction_value=0.05, fraction_units=100),
    ]


def _tree(doctype: str, parent_field: str, nodes: dict[str, str]) -> list[Doc]:
    docs = []
    parents = set(nodes.values())
    for name, parent in nodes.items():
        docs.append(
            _meta(doctype, name, **{parent_field: parent, "is_group": int(name in parents)})
        )
    return docs


def group_docs() -> list[Doc]:
    items = {"All Item Groups": ""} | {g: spec[0] for g, spec in GROUPS.items()}
    docs = _tree("Item Group", "parent_item_group", items)
    for doc in docs:
        template = GROUPS.get(doc["name"], (None, None, None, None, None))[4]
        doc["taxes"] = [{"item_tax_template": template}] if template else []
    customers = {"All Customer Groups": ""} | {g: "All Customer Groups" for g in CUSTOMER_GROUPS}
    territories = {"All Territories": "", "Canada": "All Territories"} | {
        p: "Canada" for p in PROVINCES
    }
    return (
        docs
        + _tree("Customer Group", "parent_customer_group", customers)
        + _tree("Territory", "parent_territory", territories)
    )


def tax_docs() -> list[Doc]:
    docs: list[Doc] = [
        _meta("Tax Category", EXEMPT_CATEGORY, title=EXEMPT_CATEGORY, disabled=0),
        _meta(
            "Sales Taxes and Charges Template",
            f"Exempt - {ABBR}",
            title="Exempt",
            company=COMPANY,
            tax_category=EXEMPT_CATEGORY,
            disabled=0,
            is_default=0,
            taxes=[],
        ),
    ]
    for n, (province, (title, rates)) in enumerate(PROVINCES.items(), 1):
        # The carbon levy is charged per litre first; the sales taxes then apply to price + levy.
        rows = [
            {
                "idx": 1,
                "charge_type": "On Item Quantity",
                "account_head": ACC_LEVY,
                "description": "Carbon levy",
                "rate": LEVY_PER_LITRE,
                "included_in_print_rate": 0,
            }
        ]
        for account, rate in rates:
            rows.append(
                {
                    "idx": len(rows) + 1,
                    "charge_type": "On Previous Row Total",
                    "row_id": "1",
                    "account_head": account,
                    "description": account.split(" Payable")[0],
                    "rate": rate,
                    "included_in_print_rate": 0,
                }
            )
        name = f"{title} - {ABBR}"
        docs.append(
            _meta(
                "Sales Taxes and Charges Template",
                name,
                title=title,
                company=COMPANY,
                tax_category="",
                disabled=0,
                is_default=int(province == HOME_PROVINCE),
                taxes=rows,
            )
        )
        docs.append(
            _meta(
                "Tax Rule",
                f"ACC-TAX-RULE-{n:04d}",
                tax_type="Sales",
                sales_tax_template=name,
                billing_state=province,
                tax_category="",
                priority=1,
                company=COMPANY,
            )
        )
    docs.append(
        _meta(
            "Tax Rule",
            "ACC-TAX-RULE-0099",
            tax_type="Sales",
            sales_tax_template=f"Exempt - {ABBR}",
            tax_category=EXEMPT_CATEGORY,
            priority=1,
            company=COMPANY,
        )
    )
    zero_all = [{"tax_type": a, "tax_rate": 0} for a in (ACC_GST, ACC_PST, ACC_HST, ACC_QST)]
    docs += [
        _meta(
            "Item Tax Template",
            "Zero-rated food",
            title="Zero-rated food",
            company=COMPANY,
            disabled=0,
            taxes=[*zero_all, {"tax_type": ACC_LEVY, "tax_rate": 0}],
        ),
        _meta(
            "Item Tax Template",
            "No fuel levy",
            title="No fuel levy",
            company=COMPANY,
            disabled=0,
            taxes=[{"tax_type": ACC_LEVY, "tax_rate": 0}],
        ),
        _meta(
            "Item Tax Template",
            "Books (PST exempt)",
            title="Books (PST exempt)",
            company=COMPANY,
            disabled=0,
            taxes=[{"tax_type": ACC_PST, "tax_rate": 0}, {"tax_type": ACC_LEVY, "tax_rate": 0}],
        ),
    ]
    return docs


def payment_docs() -> list[Doc]:
    modes = [
        ("Cash", "Cash"),
        ("Credit Card", "Bank"),
        ("Debit Card", "Bank"),
        ("Gift Card", "General"),
    ]
    docs = [
        _meta(
            "Mode of Payment",
            mode,
            mode_of_payment=mode,
            type=kind,
            enabled=1,
            accounts=[{"company": COMPANY, "default_account": f"{mode} - {ABBR}"}],
        )
        for mode, kind in modes
    ]
    docs.append(_meta("Price List", PRICE_LIST, currency=CURRENCY, enabled=1, selling=1))
    docs.append(
        _meta(
            "POS Profile",
            POS_PROFILE,
            company=COMPANY,
            warehouse=WAREHOUSE,
            currency=CURRENCY,
            selling_price_list=PRICE_LIST,
            customer=WALK_IN,
            taxes_and_charges=f"{PROVINCES[HOME_PROVINCE][0]} - {ABBR}",
            tax_category="",
            apply_discount_on="Grand Total",
            write_off_account=f"Write Off - {ABBR}",
            write_off_cost_center=f"Main - {ABBR}",
            write_off_limit=1,
            account_for_change_amount=f"Cash - {ABBR}",
            cost_center=f"Main - {ABBR}",
            income_account=f"Sales - {ABBR}",
            allow_rate_change=1,
            allow_discount_change=1,
            ignore_pricing_rule=0,
            disabled=0,
            payments=[
                {"mode_of_payment": m, "default": int(m == "Cash"), "allow_in_returns": 1}
                for m, _ in modes
            ],
            applicable_for_users=[{"user": "ana@example.com", "default": 1}],
            item_groups=[],
            customer_groups=[],
        )
    )
    return docs


def _item_name(rng: random.Random, group: str, n: int) -> str:
    return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS[group])} #{n}"


# ERPNext's own units (its setup's uom_data) say whether a fraction of one can be sold.
WHOLE_UOMS = ("Nos", "Box")


def uom_docs() -> list[Doc]:
    """The units the demo items use: pieces and boxes are whole, kilograms and litres are not."""
    units = sorted({uom for *_, uom, _prices, _tax in GROUPS.values()} | set(WHOLE_UOMS))
    return [
        _meta("UOM", u, uom_name=u, must_be_whole_number=int(u in WHOLE_UOMS), enabled=1)
        for u in units
    ]


def item_docs(size: DemoSize) -> Iterator[Doc]:
    """Items (with barcodes, UOMs), their prices and a few pricing rules."""
    rng = random.Random(size.seed)
    leaf_groups = [g for g in GROUPS if g not in ("Grocery", "Fuel")]
    weights = [
        3 if g in ("Pantry", "Snacks", "Beverages", "Household", "Hardware") else 1
        for g in leaf_groups
    ]
    extra_left = size.extra_barcodes
    next_plu = 4011  # weighed produce is keyed by PLU, which the scale labels embed
    for n in range(1, size.items + 1):
        group = "Fuel" if n <= 3 else rng.choices(leaf_groups, weights)[0]
        _, weighed, uom, (low, high), _ = GROUPS[group]
        code = f"SKU-{n:06d}"
        barcodes = []
        uoms = []
        if weighed:
            barcodes.append({"barcode": str(next_plu), "barcode_type": "", "uom": ""})
            next_plu += 1
        else:
            barcodes.append({"barcode": ean13(f"06{n:010d}"), "barcode_type": "EAN", "uom": ""})
        if extra_left and not weighed and group != "Fuel" and rng.random() < 0.6:
            extra_left -= 1
            barcodes.append({"barcode": ean13(f"07{n:010d}"), "barcode_type": "EAN", "uom": "Box"})
            uoms.append({"uom": "Box", "conversion_factor": 12})
        name = NOUNS["Fuel"][n - 1] if group == "Fuel" else _item_name(rng, group, n)
        yield _meta(
            "Item",
            code,
            item_code=code,
            item_name=name,
            description=name,
            item_group=group,
            brand=rng.choice(BRANDS) if group in ("Snacks", "Beverages", "Hardware") else "",
            stock_uom=uom,
            is_stock_item=int(group != "Fuel"),
            is_sales_item=1,
            disabled=0,
            has_variants=0,
            is_weighed=int(weighed),
            max_discount=0,
            barcodes=barcodes,
            uoms=[{"uom": uom, "conversion_factor": 1}, *uoms],
            taxes=[],
        )
        places = 3 if group == "Fuel" else 2
        rate = round(rng.uniform(low, high), places)
        yield _meta(
            "Item Price",
            f"PRICE-{n:06d}",
            item_code=code,
            price_list=PRICE_LIST,
            uom=uom,
            price_list_rate=rate,
            currency=CURRENCY,
            customer="",
            valid_from="2026-01-01",
            valid_upto=None,
        )


def pricing_rule_docs() -> list[Doc]:
    base = {
        "selling": 1,
        "disable": 0,
        "company": COMPANY,
        "currency": CURRENCY,
        "price_or_product_discount": "Price",
        "valid_from": "2026-01-01",
        "valid_upto": None,
        "min_qty": 0,
        "max_qty": 0,
        "min_amt": 0,
        "max_amt": 0,
        "priority": "1",
        "apply_multiple_pricing_rules": 0,
        "has_priority": 0,
        "for_price_list": "",
        "customer": "",
        "customer_group": "",
        "territory": "",
        "items": [],
        "item_groups": [],
        "brands": [],
    }
    return [
        _meta(
            "Pricing Rule",
            "PRLE-0001",
            title="Dairy week: 10% off",
            **base
            | {
                "apply_on": "Item Group",
                "item_groups": [{"item_group": "Dairy"}],
                "rate_or_discount": "Discount Percentage",
                "discount_percentage": 10,
            },
        ),
        _meta(
            "Pricing Rule",
            "PRLE-0002",
            title="Six or more beverages: 15% off",
            **base
            | {
                "apply_on": "Item Group",
                "item_groups": [{"item_group": "Beverages"}],
                "rate_or_discount": "Discount Percentage",
                "discount_percentage": 15,
                "min_qty": 6,
            },
        ),
        _meta(
            "Pricing Rule",
            "PRLE-0003",
            title="Kestrel tools: 2.00 off",
            **base
            | {
                "apply_on": "Brand",
                "brands": [{"brand": "Kestrel"}],
                "rate_or_discount": "Discount Amount",
                "discount_amount": 2,
                "min_amt": 10,
            },
        ),
    ]


def customer_docs(size: DemoSize) -> Iterator[Doc]:
    rng = random.Random(size.seed + 1)
    yield _meta(
        "Customer",
        WALK_IN,
        customer_name=WALK_IN,
        customer_type="Individual",
        customer_group="Individual",
        territory=HOME_PROVINCE,
        tax_category="",
        # ERPNext treats a province rule as a wildcard for a customer without an address, so
        # the walk-in customer carries the store's own province.
        billing_state=HOME_PROVINCE,
        billing_country="Canada",
        mobile_no="",
        disabled=0,
    )
    provinces = list(PROVINCES)
    for n in range(1, size.customers + 1):
        province = HOME_PROVINCE if rng.random() < 0.7 else rng.choice(provinces)
        exempt = rng.random() < 0.03
        group = rng.choices(CUSTOMER_GROUPS, [8, 3, 1])[0]
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {n:05d}"
        yield _meta(
            "Customer",
            name,
            customer_name=name,
            customer_type="Company" if group == "Commercial" else "Individual",
            customer_group=group,
            territory=province,
            tax_category=EXEMPT_CATEGORY if exempt else "",
            billing_state=province,
            billing_country="Canada",
            mobile_no=f"+1604555{n:04d}"[-12:],
            disabled=0,
        )


# A drill sold by serial number and paint sold by batch (features/NOTES.md §4): not in
# ``all_masters`` (whose item counts tests rely on), added where a test or a demo wants them.
SERIAL_ITEM, BATCH_ITEM = "SKU-SERIAL", "SKU-BATCH"
SERIALS = tuple(f"DRL-{n:04d}" for n in range(1, 7))
BATCHES = ("PNT-2026-01", "PNT-2026-02")


def numbered_docs() -> list[Doc]:
    """The serial item and the batch item with their prices, serial numbers and batches."""
    docs: list[Doc] = []
    for code, name, rate, serial, batch, body in (
        (SERIAL_ITEM, "Cordless Drill", 129.99, 1, 0, "089000000001"),
        (BATCH_ITEM, "Deck Paint 4L", 54.50, 0, 1, "089000000002"),
    ):
        docs.append(
            _meta(
                "Item",
                code,
                item_code=code,
                item_name=name,
                description=name,
                item_group="Hardware",
                stock_uom="Nos",
                is_stock_item=1,
                is_sales_item=1,
                disabled=0,
                has_variants=0,
                has_serial_no=serial,
                has_batch_no=batch,
                barcodes=[{"barcode": ean13(body), "barcode_type": "EAN", "uom": ""}],
                uoms=[{"uom": "Nos", "conversion_factor": 1}],
                taxes=[],
            )
        )
        docs.append(
            _meta(
                "Item Price",
                f"PRICE-{code}",
                item_code=code,
                price_list=PRICE_LIST,
                uom="Nos",
                price_list_rate=rate,
                currency=CURRENCY,
                customer="",
                valid_from="2026-01-01",
                valid_upto=None,
            )
        )
    docs += [
        _meta("Serial No", s, item_code=SERIAL_ITEM, warehouse=WAREHOUSE, status="Active")
        for s in SERIALS
    ]
    docs += [
        _meta("Batch", b, batch_id=b, item=BATCH_ITEM, expiry_date=f"2027-0{n + 1}-01", disabled=0)
        for n, b in enumerate(BATCHES)
    ]
    return docs


# The shop's sales people; "Sales Team" is ERPNext's root group, which a sale cannot name.
SALES_PEOPLE = ("Ana Lima", "Ben Okafor")
SALES_TEAM_ROOT = "Sales Team"


def sales_person_docs() -> list[Doc]:
    root = _meta(
        "Sales Person",
        SALES_TEAM_ROOT,
        sales_person_name=SALES_TEAM_ROOT,
        is_group=1,
        enabled=1,
        commission_rate="0",
    )
    people = [
        _meta(
            "Sales Person",
            name,
            sales_person_name=name,
            parent_sales_person=SALES_TEAM_ROOT,
            is_group=0,
            enabled=1,
            commission_rate="5",
        )
        for name in SALES_PEOPLE
    ]
    return [root, *people]


def all_masters(size: DemoSize) -> Iterator[Doc]:
    """Every master, parents before the documents that link to them."""
    yield from settings_docs()
    yield from group_docs()
    yield from tax_docs()
    yield from payment_docs()
    yield from pricing_rule_docs()
    yield from uom_docs()
    yield from item_docs(size)
    yield from customer_docs(size)
    yield from sales_person_docs()

"""A small demo catalog in a real SQLite file, for the masters and catalog tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from appliance.demo.masters import DemoSize, all_masters
from appliance.demo.seed import seed_demo
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
    RateOrDiscount,
    RuleTarget,
    TaxRule,
    TaxTemplate,
    Territory,
)
from appliance.sales.model import ChargeType, TaxLine
from appliance.store.db import make_session_factory
from tests.store.factories import migrated_engine

SMALL = DemoSize(items=300, extra_barcodes=150, customers=60)
# Cheap hashes: the tests check the format and the round trip, not the cost parameters.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def demo_docs(size: DemoSize = SMALL) -> list[dict[str, Any]]:
    return list(all_masters(size))


def seeded_engine(path: Path, size: DemoSize = SMALL) -> Engine:
    engine = migrated_engine(path)
    seed_demo(make_session_factory(engine), size, hasher=FAST_HASHER)
    return engine


def item_doc(code: str, name: str, *barcodes: str, **fields: Any) -> dict[str, Any]:
    """A crafted Item as ERPNext serves it (Dairy, Nos), for search and ranking tests."""
    return {
        "doctype": "Item",
        "name": code,
        "item_code": code,
        "item_name": name,
        "item_group": "Dairy",
        "stock_uom": "Nos",
        "barcodes": [{"barcode": b} for b in barcodes],
        **fields,
    }


def by_name(docs: list[dict[str, Any]], doctype: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in docs if d["doctype"] == doctype}


def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the search indexes' own tables included), for before/after."""
    names = session.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ).scalars()
    out = {}
    for name in sorted(names):
        if name.endswith("_fts"):
            continue  # virtual tables: their shadow tables are compared instead
        out[name] = [tuple(r) for r in session.execute(text(f'SELECT * FROM "{name}"'))]
    return out


def _dec(value: Any) -> D:
    return D(repr(value)) if isinstance(value, float) else D(value or 0)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _tax_rows(rows: list[dict[str, Any]]) -> tuple[ItemTaxRow, ...]:
    return tuple(
        ItemTaxRow(
            r["item_tax_template"],
            r.get("tax_category") or "",
            _day(r.get("valid_from")),
            _dec(r.get("minimum_net_rate")),
            _dec(r.get("maximum_net_rate")),
        )
        for r in rows
    )


def memory_catalog(docs: list[dict[str, Any]]) -> MemoryCatalog:
    """The same demo documents read straight into the engine's in-memory catalog: the reference
    the SQL catalog must agree with."""
    kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        kind.setdefault(doc["doctype"], []).append(doc)
    return MemoryCatalog(
        items=[
            CatalogItem(
                item_code=d["item_code"],
                item_name=d["item_name"],
                item_group=d["item_group"],
                stock_uom=d["stock_uom"],
                brand=d["brand"],
                is_stock_item=bool(d["is_stock_item"]),
                is_weighed=bool(d["is_weighed"]),
                is_sales_item=bool(d["is_sales_item"]),
                disabled=bool(d["disabled"]),
                has_variants=bool(d["has_variants"]),
                max_discount=_dec(d["max_discount"]),
                uoms={u["uom"]: _dec(u["conversion_factor"]) for u in d["uoms"]},
                taxes=_tax_rows(d["taxes"]),
            )
            for d in kind["Item"]
        ],
        barcodes=[
            Barcode(b["barcode"], d["item_code"], b["uom"])
            for d in kind["Item"]
            for b in d["barcodes"]
        ],
        prices=[
            ItemPrice(
                d["item_code"],
                d["price_list"],
                d["uom"],
                _dec(d["price_list_rate"]),
                d["customer"],
                _day(d["valid_from"]),
                _day(d["valid_upto"]),
                name=d["name"],
            )
            for d in kind["Item Price"]
        ],
        customers=[
            CustomerInfo(
                name=d["name"],
                customer_name=d["customer_name"],
                customer_group=d["customer_group"],
                territory=d["territory"],
                tax_category=d["tax_category"],
                billing_state=d["billing_state"],
                billing_country=d["billing_country"],
            )
            for d in kind["Customer"]
        ],
        item_groups=[
            ItemGroup(d["name"], d["parent_item_group"], _tax_rows(d["taxes"]))
            for d in kind["Item Group"]
        ],
        customer_groups=[
            CustomerGroup(d["name"], d["parent_customer_group"]) for d in kind["Customer Group"]
        ],
        territories=[Territory(d["name"], d["parent_territory"]) for d in kind["Territory"]],
        tax_rules=[
            TaxRule(
                name=d["name"],
                sales_tax_template=d["sales_tax_template"],
                tax_type=d["tax_type"],
                company=d["company"],
                tax_category=d["tax_category"],
                billing_state=d.get("billing_state", ""),
                priority=d["priority"],
            )
            for d in sorted(kind["Tax Rule"], key=lambda d: d["name"])
        ],
        tax_templates=[
            TaxTemplate(
                d["name"],
                rows=tuple(
                    TaxLine(
                        ChargeType(r["charge_type"]),
                        r["account_head"],
                        rate=_dec(r["rate"]),
                        row_id=int(r["row_id"]) if r.get("row_id") else None,
                        included_in_print_rate=bool(r["included_in_print_rate"]),
                        description=r["description"],
                    )
                    for r in d["taxes"]
                ),
                disabled=bool(d["disabled"]),
                tax_category=d["tax_category"],
                is_default=bool(d["is_default"]),
            )
            for d in kind["Sales Taxes and Charges Template"]
        ],
        item_tax_templates=[
            ItemTaxTemplate(d["name"], {r["tax_type"]: _dec(r["tax_rate"]) for r in d["taxes"]})
            for d in kind["Item Tax Template"]
        ],
        pricing_rules=[
            PricingRule(
                name=d["name"],
                apply_on=ApplyOn(d["apply_on"]),
                currency=d["currency"],
                rate_or_discount=RateOrDiscount(d["rate_or_discount"]),
                items=tuple(RuleTarget(r["item_code"]) for r in d["items"]),
                item_groups=tuple(RuleTarget(r["item_group"]) for r in d["item_groups"]),
                brands=tuple(RuleTarget(r["brand"]) for r in d["brands"]),
                title=d["title"],
                company=d["company"],
                min_qty=_dec(d["min_qty"]),
                min_amt=_dec(d["min_amt"]),
                valid_from=_day(d["valid_from"]),
                discount_percentage=_dec(d.get("discount_percentage")),
                discount_amount=_dec(d.get("discount_amount")),
                priority=int(d["priority"]),
            )
            for d in kind["Pricing Rule"]
        ],
    )

"""`appliance quote` for a customer: taxes and item tax maps resolved from the local store.

A doc that names a customer and has no ``taxes`` gets the rows its Tax Rule selects (by tax
category, customer group and billing province), or the POS Profile's; each line without an
``item_tax_rate`` gets its Item Tax Template's map. Exactly what the counter would charge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from appliance import paths
from appliance.config import ConfigError, load_config
from appliance.counter.commands import open_checkout
from appliance.sales.cart import CartError
from appliance.sales.model import TaxLine
from appliance.sales.quote import QuoteInputError
from appliance.sales.tax_rules import choose_item_tax_template
from appliance.sales.till import Till


def _tax_row(t: TaxLine) -> dict[str, Any]:
    row: dict[str, Any] = {
        "charge_type": t.charge_type.value,
        "account_head": t.account_head,
        "description": t.description,
        "rate": float(t.rate),
        "tax_amount": float(t.tax_amount),
        "included_in_print_rate": int(t.included_in_print_rate),
    }
    if t.row_id is not None:
        row["row_id"] = t.row_id
    return row


def _item_row(till: Till, row: object, tax_category: str) -> object:
    if not isinstance(row, dict) or "item_tax_rate" in row:
        return row
    item = till.catalog.item(str(row.get("item_code", "")))
    if item is None:
        return row
    choice = choose_item_tax_template(
        till.catalog,
        item,
        posting_date=till.today,
        tax_category=tax_category,
        net_rate=Decimal(str(row.get("rate") or 0)),
    )
    rates = {account: float(rate) for account, rate in choice.rates.items()}
    return {**row, "item_tax_template": choice.template, "item_tax_rate": rates}


def resolve_from_store(doc: dict[str, Any]) -> dict[str, Any]:
    customer = str(doc["customer"])
    try:
        checkout = open_checkout(load_config(), paths.db_path())
    except (ConfigError, CartError) as exc:
        raise QuoteInputError(f"doc.customer: taxes cannot be resolved: {exc}") from None

    def resolve(till: Till) -> dict[str, Any]:
        try:
            taxes = till.customer_taxes(customer)
        except CartError as exc:
            raise QuoteInputError(f"doc.customer: {exc}") from None
        items = [_item_row(till, row, taxes.tax_category) for row in doc.get("items") or []]
        taxes_rows = [_tax_row(t) for t in taxes.rows]
        return {**doc, "taxes_and_charges": taxes.template, "taxes": taxes_rows, "items": items}

    try:
        return checkout.read(resolve)
    finally:
        checkout.close()

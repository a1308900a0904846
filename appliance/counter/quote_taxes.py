"""`appliance quote` for a customer or a coupon: resolved from the local store.

A doc that names a customer and has no ``taxes`` gets the rows its Tax Rule selects (by tax
category, customer group and billing province), or the POS Profile's; each line without an
``item_tax_rate`` gets its Item Tax Template's map. Exactly what the counter would charge.

A doc with a ``coupon_code`` (printed code or name) names the Coupon Code document, and unless
it says ``ignore_pricing_rule`` the coupon's rule is applied as ERPNext applies it: the lines it
covers get the rule's price and discount (a rate the caller sent is replaced, as ERPNext does),
and a product rule adds its free lines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from appliance import paths
from appliance.config import ConfigError, load_config
from appliance.counter.commands import open_checkout
from appliance.sales.cart import CartError
from appliance.sales.catalog import CouponCode
from appliance.sales.model import TaxLine
from appliance.sales.pricing import PricedLine, PricingContext, price_line
from appliance.sales.quote import QuoteInputError, needs_taxes
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


def _num(value: Decimal) -> float:
    return float(value)


def _coupon_rows(till: Till, ctx: PricingContext, coupon: CouponCode, rows: list[Any]) -> list[Any]:
    out: list[Any] = []
    free: list[dict[str, Any]] = []
    for row in rows:
        item = till.catalog.item(str(row.get("item_code", ""))) if isinstance(row, dict) else None
        if item is None or not isinstance(row, dict):
            out.append(row)
            continue
        qty = Decimal(str(row.get("qty") or 1))
        priced = price_line(till.catalog, ctx, item, str(row.get("uom") or item.stock_uom), qty)
        if not isinstance(priced, PricedLine) or coupon.pricing_rule not in priced.pricing_rules:
            out.append(row)
            continue
        changed = {k: v for k, v in row.items() if k != "rate"}
        changed.update(
            price_list_rate=_num(priced.price_list_rate),
            discount_percentage=_num(priced.discount_percentage),
        )
        if priced.rate is not None:
            changed["rate"] = _num(priced.rate)
        out.append(changed)
        free += [
            {
                "item_code": f.item_code,
                "qty": _num(f.qty),
                "rate": _num(f.rate),
                "price_list_rate": _num(f.rate),
                "is_free_item": 1,
                "pricing_rules": f.pricing_rule,
            }
            for f in priced.free_items
            if f.pricing_rule == coupon.pricing_rule
        ]
    return out + free


def resolve_from_store(doc: dict[str, Any]) -> dict[str, Any]:
    try:
        checkout = open_checkout(load_config(), paths.db_path())
    except (ConfigError, CartError) as exc:
        raise QuoteInputError(f"doc: cannot be resolved from the store: {exc}") from None

    def resolve(till: Till) -> dict[str, Any]:
        out = dict(doc)
        customer = str(doc.get("customer") or "")
        tax_category = till.profile.tax_category
        if needs_taxes(doc):
            try:
                taxes = till.customer_taxes(customer)
            except CartError as exc:
                raise QuoteInputError(f"doc.customer: {exc}") from None
            tax_category = taxes.tax_category
            out["taxes_and_charges"] = taxes.template
            out["taxes"] = [_tax_row(t) for t in taxes.rows]
        if doc.get("coupon_code"):
            typed = str(doc["coupon_code"])
            coupon = till.catalog.coupon(typed)
            if coupon is None:
                raise QuoteInputError(f"doc.coupon_code: no coupon {typed!r} on this till")
            out["coupon_code"] = coupon.name
            if not int(doc.get("ignore_pricing_rule") or 0):
                cart = till.set_coupon(till.new_cart(customer or None), coupon)
                rows = list(doc.get("items") or [])
                out["items"] = _coupon_rows(till, till.pricing(cart), coupon, rows)
        if needs_taxes(doc):
            out["items"] = [_item_row(till, row, tax_category) for row in out.get("items") or []]
        return out

    try:
        return checkout.read(resolve)
    finally:
        checkout.close()

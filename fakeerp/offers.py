"""Coupons and free-item rules on a POS sale, as ERPNext 15 and 16 answered them (recorded in
tests/data/erpnext/features/, NOTES.md §2, §3).

- A coupon is checked on every save, draft included, against the server's date and its
  ``used`` count, and counted when the invoice is submitted (223-232).
- A sale the server prices itself (no ``ignore_pricing_rule``) gets the free lines of the
  product rules it meets, unless a free line marked with that rule is already there; one sent
  with another quantity is reset to the rule's (303-318). A line marked free is trusted.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from fakeerp import errors

if TYPE_CHECKING:
    from fakeerp.site import Site

Doc = dict[str, Any]
COUPON = "Coupon Code"


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def check_coupon(site: Site, doc: Doc) -> None:
    """ERPNext's validate_coupon_code: the link, then its dates, then its count (230, 232)."""
    name = doc.get("coupon_code")
    if not name:
        return
    site._link(COUPON, name, "Coupon Code")
    coupon = site.docs[COUPON][str(name)]
    today = site.now().date()
    valid_from, valid_upto = _day(coupon.get("valid_from")), _day(coupon.get("valid_upto"))
    if valid_from and valid_from > today:
        raise errors.validation("Sorry, this coupon code's validity has not started")
    if valid_upto and valid_upto < today:
        raise errors.validation("Sorry, this coupon code's validity has expired")
    maximum = int(coupon.get("maximum_use") or 0)
    if maximum and int(coupon.get("used") or 0) >= maximum:
        raise errors.validation("Sorry, this coupon code is no longer valid")


def count_coupon(site: Site, doc: Doc) -> None:
    """At submit the coupon's ``used`` goes up by one (226, 228, 237, 242)."""
    name = doc.get("coupon_code")
    if not name or int(doc.get("is_return") or 0):
        return
    coupon = site.docs[COUPON][str(name)]
    site.touch(COUPON, str(name), used=int(coupon.get("used") or 0) + 1)


def _rule_qty(rule: Doc) -> float:
    return float(rule.get("free_qty") or 0) or 1.0


def _rules_met(site: Site, doc: Doc, row: Doc) -> list[Doc]:
    met = []
    for rule in site.docs.get("Pricing Rule", {}).values():
        if int(rule.get("disable") or 0) or not int(rule.get("selling") or 0):
            continue
        if (
            rule.get("price_or_product_discount") != "Product"
            or rule.get("apply_on") != "Item Code"
        ):
            continue
        if int(rule.get("coupon_code_based") or 0):
            continue  # not recorded with a coupon: left alone
        if row.get("item_code") not in {r.get("item_code") for r in rule.get("items") or []}:
            continue
        if rule.get("customer") and rule["customer"] != doc.get("customer"):
            continue
        if float(row.get("stock_qty") or row.get("qty") or 0) < float(rule.get("min_qty") or 0):
            continue
        met.append(rule)
    return met


def add_free_items(site: Site, doc: Doc) -> None:
    """The server's free lines for a sale it prices itself (303, 308, 310, 315)."""
    if int(doc.get("ignore_pricing_rule") or 0) or int(doc.get("is_return") or 0):
        return
    items: list[Doc] = doc["items"]
    for row in [r for r in items if not int(r.get("is_free_item") or 0)]:
        rules = _rules_met(site, doc, row)
        if rules:
            row["pricing_rules"] = json.dumps([r["name"] for r in rules], indent=1)
        for rule in rules:
            code = (
                rule.get("free_item") if not int(rule.get("same_item") or 0) else row["item_code"]
            )
            mine = [
                r
                for r in items
                if int(r.get("is_free_item") or 0)
                and r.get("item_code") == code
                and r.get("pricing_rules") == rule["name"]
            ]
            if mine:
                mine[0]["qty"] = _rule_qty(rule)
                continue
            free = site.docs["Item"][str(code)]
            items.append(
                {
                    "item_code": code,
                    "item_name": free.get("item_name"),
                    "uom": free.get("stock_uom"),
                    "conversion_factor": 1,
                    "qty": _rule_qty(rule),
                    "rate": float(rule.get("free_item_rate") or 0),
                    "price_list_rate": float(rule.get("free_item_rate") or 0),
                    "is_free_item": 1,
                    "pricing_rules": rule["name"],
                    "warehouse": row.get("warehouse") or doc.get("set_warehouse"),
                }
            )

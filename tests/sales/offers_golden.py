"""Golden carts for offers: sales a real ERPNext 15 and 16 priced with a coupon or a free-item
rule, replayed through the till over a real store holding the rules and coupons as they were.

Everything comes from the vendored recordings (tests/data/erpnext/features/): the Pricing Rule
and Coupon Code documents are the servers' own answers to each create or update recorded before
the sale; item prices, names, groups and the tax rows are read from the sale's answer. Nothing
expected is computed here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from appliance.sales import cart as carts
from appliance.sales.cart import Cart
from appliance.sales.erpnext_float import RoundingMethod
from appliance.sales.model import PaymentLine, TotalsSettings
from appliance.sales.quote import fill_document
from appliance.sales.till import Till, TillProfile
from appliance.store.catalog import SqlCatalog
from appliance.store.masters import apply_masters
from tests.shared import DATA, require

FEATURES = DATA / "features"
SALE_DAY = date(2026, 12, 7)  # the recordings' posting date
OFFER_DOCTYPES = ("Pricing Rule", "Coupon Code")
SALE_DOCTYPES = ("POS Invoice", "Sales Invoice")


def _json(path: Path) -> Any:
    return json.loads(require(path).read_text(), parse_float=Decimal)


@dataclass(frozen=True)
class Recording:
    number: int
    version: int
    stem: str

    @property
    def meta(self) -> dict[str, Any]:
        return _json(FEATURES / f"{self.stem}.meta.json")  # type: ignore[no-any-return]

    @property
    def request(self) -> dict[str, Any]:
        return _json(FEATURES / f"{self.stem}.request.json")  # type: ignore[no-any-return]

    @property
    def answer(self) -> dict[str, Any]:
        return _json(FEATURES / f"{self.stem}.response.json")  # type: ignore[no-any-return]

    @property
    def doctype(self) -> str:
        path = str(self.meta["path"]).replace("%20", " ")
        return path.split("/api/resource/")[1].split("/")[0] if "/api/resource/" in path else ""


def recordings() -> list[Recording]:
    found = []
    for meta in sorted(require(FEATURES).glob("*.meta.json")):
        stem = meta.name.removesuffix(".meta.json")
        number, version = stem.split("_")[:2]
        found.append(Recording(int(number), int(version.removeprefix("v")), stem))
    return found


def recording(stem: str) -> Recording:
    return next(r for r in recordings() if r.stem == stem)


def offers_before(sale: Recording) -> list[dict[str, Any]]:
    """The Pricing Rules and Coupon Codes of the sale's server as they stood when it was made:
    the server's answer to every accepted create or update recorded before it."""
    return [
        r.answer["data"]
        for r in recordings()
        if r.version == sale.version
        and r.number < sale.number
        and r.doctype in OFFER_DOCTYPES
        and r.meta["status"] == 200
        and r.meta["method"] in ("POST", "PUT")
    ]


def site_docs(sale: Recording) -> list[dict[str, Any]]:
    """Items, prices, the customer and the tax template, as the sale's answer shows them."""
    answer = sale.answer["data"]
    docs: list[dict[str, Any]] = [
        {"doctype": "Item Group", "name": "All Item Groups", "is_group": 1},
        {"doctype": "Customer Group", "name": "Individual"},
        {"doctype": "Territory", "name": "All Territories", "is_group": 1},
        {
            "doctype": "Customer",
            "name": answer["customer"],
            "customer_name": answer["customer"],
            "customer_group": answer.get("customer_group") or "Individual",
            "territory": answer.get("territory") or "All Territories",
        },
        {
            "doctype": "Sales Taxes and Charges Template",
            "name": answer["taxes_and_charges"],
            "company": answer["company"],
            "taxes": [
                {
                    k: row[k]
                    for k in ("charge_type", "account_head", "description", "rate", "cost_center")
                }
                | {"included_in_print_rate": row["included_in_print_rate"], "idx": row["idx"]}
                for row in answer["taxes"]
            ],
        },
    ]
    for row in answer["items"]:
        docs.append(
            {
                "doctype": "Item Group",
                "name": row["item_group"],
                "parent_item_group": "All Item Groups",
            }
        )
        docs.append(
            {
                "doctype": "Item",
                "name": row["item_code"],
                "item_code": row["item_code"],
                "item_name": row["item_name"],
                "item_group": row["item_group"],
                "stock_uom": row["stock_uom"],
            }
        )
        if not row.get("is_free_item"):
            docs.append(
                {
                    "doctype": "Item Price",
                    "name": f"{row['item_code']}-{answer['selling_price_list']}",
                    "item_code": row["item_code"],
                    "price_list": answer["selling_price_list"],
                    "uom": row["stock_uom"],
                    "price_list_rate": row["price_list_rate"],
                    "selling": 1,
                }
            )
    return docs


def till_for(session: Session, sale: Recording, site: Recording | None = None) -> Till:
    """A till over a real store holding the offers and masters of the sale's moment (those of
    ``site``'s answer when the sale was refused and has none)."""
    answer = (site or sale).answer["data"]
    apply_masters(session, site_docs(site or sale))
    apply_masters(session, offers_before(sale))
    session.flush()
    profile = TillProfile(
        name=answer["pos_profile"],
        company=answer["company"],
        currency=answer["currency"],
        price_list=answer["selling_price_list"],
        warehouse=answer["set_warehouse"],
        walk_in_customer=answer["customer"],
        settings=TotalsSettings(
            currency=answer["currency"],
            rounding_method=RoundingMethod.BANKERS,
            erpnext_version=sale.version,
        ),
        taxes_and_charges=answer["taxes_and_charges"],
    )
    return Till(SqlCatalog(session), profile, SALE_DAY)


def ring_up(till: Till, sale: Recording) -> Cart:
    """The request's bought lines and coupon, keyed as a cashier would: free lines the client
    sent are left out, the till adds its own."""
    request = sale.request
    cart = till.new_cart(request["customer"])
    if request.get("coupon_code"):
        coupon = till.catalog.coupon(request["coupon_code"])
        assert coupon is not None, request["coupon_code"]
        cart = till.set_coupon(cart, coupon)
    for row in request["items"]:
        if not row.get("is_free_item"):
            cart = till.add_item(cart, row["item_code"], Decimal(str(row["qty"])))
    for pay in request.get("payments") or ():
        cart = carts.add_payment(
            cart, PaymentLine(pay["mode_of_payment"], Decimal(str(pay["amount"])))
        )
    return cart


def as_document(cart: Cart) -> dict[str, Any]:
    """The cart in the shape of ERPNext's answer, for ``golden.mismatches``."""
    assert cart.totals is not None
    doc = {
        "items": [
            {
                "item_code": line.item_code,
                "is_free_item": int(line.is_free_item),
                "pricing_rules": list(line.pricing_rules),
            }
            for line in cart.lines
        ],
        "taxes": [{"account_head": t.account_head} for t in cart.taxes],
    }
    return fill_document(doc, cart.totals)


def applied_rules(value: str | None) -> list[str]:
    """ERPNext's ``pricing_rules`` on a line: a JSON list in a string, or a plain name."""
    if not value:
        return []
    text = value.strip()
    return list(json.loads(text)) if text.startswith("[") else [text]

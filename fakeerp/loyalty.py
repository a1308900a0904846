"""Loyalty points on a POS sale, as ERPNext 15 and 16 answered them (recorded in
tests/data/erpnext/features/, NOTES.md §1).

- The invoice's ``loyalty_program`` is filled from the customer (107, 108).
- A redemption needs ``redeem_loyalty_points`` and ``loyalty_points``; the flag alone is
  ignored (127, 129). The points are checked against the customer's balance (115, 116), the
  ``loyalty_amount`` is computed only when the client leaves it out or at 0 (117, 118): one sent
  is booked as it is (126, 128, 131, 132).
- Entries are made at submit: POS Invoice on 15, Sales Invoice on 16 (109, 111); none at
  consolidation (707). Whole points on the grand total less the whole-unit part of what points
  paid; a return replaces its original's earning entry by one on the net amount (143-150).
- ``get_loyalty_program_details_with_points`` answers the program with the balance (103, 110),
  404 without a program (139) and 417 for a customer in none (138).
"""

from __future__ import annotations

import math
import secrets
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from fakeerp import errors
from fakeerp.errors import FrappeError

if TYPE_CHECKING:
    from fakeerp.site import Site

Doc = dict[str, Any]
PROGRAM = "Loyalty Program"
ENTRY = "Loyalty Point Entry"
DETAILS_METHOD = (
    "erpnext.accounts.doctype.loyalty_program.loyalty_program"
    ".get_loyalty_program_details_with_points"
)
NOT_ENOUGH = "You don't have enough Loyalty Points to redeem"
NOT_ENROLLED = "Customer isn't enrolled in any Loyalty Program"


def _entries(site: Site, customer: str, program: str) -> list[Doc]:
    return [
        e
        for e in site.docs.get(ENTRY, {}).values()
        if e.get("customer") == customer and e.get("loyalty_program") == program
    ]


def balance(site: Site, customer: str, program: str, today: date | None = None) -> int:
    day = (today or site.now().date()).isoformat()
    return sum(
        int(e.get("loyalty_points") or 0)
        for e in _entries(site, customer, program)
        if not e.get("expiry_date") or str(e["expiry_date"]) >= day
    )


def _spent(site: Site, customer: str, program: str) -> float:
    return sum(float(e.get("purchase_amount") or 0) for e in _entries(site, customer, program))


def _collection_factor(program: Doc, spent: float) -> float:
    reached = [
        r for r in program.get("collection_rules") or [] if float(r.get("min_spent") or 0) <= spent
    ]
    if not reached:
        return 0.0
    return float(max(reached, key=lambda r: float(r.get("min_spent") or 0))["collection_factor"])


def validate(site: Site, doc: Doc) -> None:
    """The invoice's loyalty fields, before totals and payments are checked."""
    customer = site.docs.get("Customer", {}).get(str(doc.get("customer") or ""), {})
    if not doc.get("loyalty_program") and customer.get("loyalty_program"):
        doc["loyalty_program"] = customer["loyalty_program"]
    points = int(doc.get("loyalty_points") or 0)
    if not int(doc.get("redeem_loyalty_points") or 0) or not points:
        doc["loyalty_amount"] = 0.0
        return
    name = str(doc.get("loyalty_program") or "")
    program = site.docs.get(PROGRAM, {}).get(name)
    if program is None:
        raise errors.validation(NOT_ENOUGH)
    if points > balance(site, str(doc["customer"]), name):
        raise errors.validation(NOT_ENOUGH)
    if not float(doc.get("loyalty_amount") or 0):
        doc["loyalty_amount"] = round(points * float(program.get("conversion_factor") or 0), 2)
    doc.setdefault("loyalty_redemption_account", program.get("expense_account"))
    doc.setdefault("loyalty_redemption_cost_center", program.get("cost_center"))


def loyalty_amount(doc: Doc) -> float:
    if not int(doc.get("redeem_loyalty_points") or 0):
        return 0.0
    return float(doc.get("loyalty_amount") or 0)


def _entry(site: Site, doc: Doc, points: int, amount: float, **extra: Any) -> None:
    posted = date.fromisoformat(str(doc.get("posting_date") or site.now().date())[:10])
    program = site.docs[PROGRAM][str(doc["loyalty_program"])]
    days = int(program.get("expiry_duration") or 0)
    site.load(
        [
            {
                "doctype": ENTRY,
                "name": secrets.token_hex(5),
                "loyalty_program": program["name"],
                "loyalty_program_tier": extra.pop("tier", None),
                "customer": doc["customer"],
                "invoice_type": doc["doctype"],
                "invoice": doc["name"],
                "redeem_against": None,
                "loyalty_points": points,
                "purchase_amount": amount,
                "expiry_date": (posted + timedelta(days=days)).isoformat() if days else None,
                "posting_date": posted.isoformat(),
                "company": doc.get("company"),
                **extra,
            }
        ]
    )


def _earn(site: Site, doc: Doc, eligible: float) -> None:
    program = site.docs[PROGRAM][str(doc["loyalty_program"])]
    factor = _collection_factor(program, _spent(site, str(doc["customer"]), program["name"]))
    points = math.floor(eligible / factor) if factor and eligible > 0 else 0
    if points > 0:
        _entry(site, doc, points, round(eligible, 2))


def on_submit(site: Site, doc: Doc) -> None:
    """The invoice's point entries (109, 111, 122, 145)."""
    name = doc.get("loyalty_program")
    if not name or str(name) not in site.docs.get(PROGRAM, {}):
        return
    grand = float(doc.get("grand_total") or 0)
    if int(doc.get("is_return") or 0):
        _replace_for_return(site, doc)
        return
    points = int(doc.get("loyalty_points") or 0)
    amount = loyalty_amount(doc)
    if points and amount:
        _entry(site, doc, -points, grand)
    _earn(site, doc, grand - math.floor(amount))


def _replace_for_return(site: Site, doc: Doc) -> None:
    """A return makes no entry of its own: its original's earning entry is replaced by one on
    the net amount (143-150)."""
    original_name = str(doc.get("return_against") or "")
    kept = site.docs.get(ENTRY, {})
    earned = [
        e
        for e in kept.values()
        if e.get("invoice") == original_name and int(e.get("loyalty_points") or 0) > 0
    ]
    if not earned:
        return
    for e in earned:
        site.delete(ENTRY, str(e["name"]))
    original = site.docs[str(doc["doctype"])][original_name]
    returned = sum(
        float(r.get("grand_total") or 0)
        for r in site.docs[str(doc["doctype"])].values()
        if r.get("return_against") == original_name and int(r.get("docstatus") or 0) == 1
    )
    if doc["name"] not in site.docs[str(doc["doctype"])]:
        returned += float(doc.get("grand_total") or 0)
    _earn(site, original, float(original.get("grand_total") or 0) + returned)


def details_with_points(site: Site, params: dict[str, str]) -> Doc:
    """``get_loyalty_program_details_with_points`` (103, 110, 138, 139)."""
    customer = params.get("customer") or ""
    name = params.get("loyalty_program") or ""
    if not name:
        raise FrappeError(
            404, "DoesNotExistError", "Loyalty Program None not found", show_message=False
        )
    program = site.docs.get(PROGRAM, {}).get(name)
    if program is None:
        raise errors.not_found(PROGRAM, name)
    enrolled = site.docs.get("Customer", {}).get(customer, {}).get("loyalty_program")
    if enrolled != name:
        raise errors.validation(NOT_ENROLLED)
    spent = _spent(site, customer, name)
    rules = program.get("collection_rules") or []
    tier: Doc = max(
        (r for r in rules if float(r.get("min_spent") or 0) <= spent),
        key=lambda r: float(r.get("min_spent") or 0),
        default={},
    )
    return {
        **program,
        "loyalty_points": balance(site, customer, name),
        "total_spent": spent,
        "tier_name": tier.get("tier_name"),
        "collection_factor": tier.get("collection_factor"),
    }

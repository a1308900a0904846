"""A sale's sales team, as ERPNext 15 and 16 answered it (features/NOTES.md §6, 601-610).

- The shares must add up to 100 (602, 606), on both.
- 16 checks each Sales Person link (607); 15 takes an unknown one and keeps it (603, 609).
- The row gets the Sales Person's ``commission_rate`` (as stored, a string). 16 computes the
  allocated amount and the incentives from the net total (605); 15 leaves them 0 (601).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakeerp import errors

if TYPE_CHECKING:
    from fakeerp.site import Site

Doc = dict[str, Any]
SALES_PERSON = "Sales Person"


def _flt(value: Any) -> float:
    return float(value or 0)


def apply(site: Site, doc: Doc) -> None:
    """Check and fill ``doc``'s ``sales_team`` after its totals are computed."""
    team = doc.get("sales_team") or []
    if not team:
        return
    if abs(sum(_flt(r.get("allocated_percentage")) for r in team) - 100) > 1e-9:
        raise errors.validation("Total allocated percentage for sales team should be 100")
    people = site.docs.get(SALES_PERSON, {})
    net = _flt(doc.get("net_total"))
    for n, row in enumerate(team, 1):
        if site.version >= 16:
            site._link(SALES_PERSON, row.get("sales_person"), f"Row #{n}: Sales Person")
        person = people.get(str(row.get("sales_person")), {})
        row["commission_rate"] = person.get("commission_rate")
        row["allocated_percentage"] = _flt(row.get("allocated_percentage"))
        amount = round(net * row["allocated_percentage"] / 100, 2) if site.version >= 16 else 0.0
        row["allocated_amount"] = amount
        row["incentives"] = round(amount * _flt(person.get("commission_rate")) / 100, 2)

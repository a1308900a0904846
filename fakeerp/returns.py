"""ERPNext's check that a return gives back no more than was sold (FACTS §3.13,
``validate_returned_items``): per row of the original, what this return and every submitted
return before it give back is at most the quantity sold. A return row names the original's row
(``pos_invoice_item`` / ``sales_invoice_item``); one that does not is counted against the
original's first row with the same item, as ERPNext falls back to the item code."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from fakeerp.errors import FrappeError

Doc = dict[str, Any]
ITEM_LINK = {"Sales Invoice": "sales_invoice_item", "POS Invoice": "pos_invoice_item"}


def check_returnable(docs: Mapping[str, Doc], doctype: str, doc: Doc) -> None:
    """Raise ERPNext's 417 ``StockOverReturnError`` for the first row returning too much."""
    link = ITEM_LINK[doctype]
    original = docs.get(str(doc.get("return_against") or ""))
    if original is None:
        return  # the link check names a missing original
    rows = list(original.get("items") or [])
    sold = {str(r.get("name")): -float(r.get("qty") or 0) for r in rows}
    by_item = {str(r.get("item_code")): str(r.get("name")) for r in reversed(rows)}

    def key(row: Mapping[str, Any]) -> str:
        named = str(row.get(link) or "")
        return named if named in sold else by_item.get(str(row.get("item_code")), "")

    taken: dict[str, float] = defaultdict(float)  # negative: quantities given back
    for other in docs.values():
        if (
            other.get("return_against") == original.get("name")
            and int(other.get("docstatus") or 0) == 1
            and other.get("name") != doc.get("name")
        ):
            for row in other.get("items") or []:
                taken[key(row)] += float(row.get("qty") or 0)
    for n, row in enumerate(doc.get("items") or [], 1):
        line, qty = key(row), float(row.get("qty") or 0)
        before = taken[line]
        taken[line] += qty
        if line not in sold or taken[line] >= sold[line] - 1e-9:
            continue
        code = row.get("item_code")
        if before <= sold[line] + 1e-9:
            message = f"Item {code} has already been returned"
        else:
            message = f"Row # {n}: Cannot return more than {before - sold[line]:g} for Item {code}"
        raise FrappeError(417, "StockOverReturnError", message, exc_source="erpnext (app)")

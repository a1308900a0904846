"""Pull the store-credit payment rows: every submitted sale or return paid (or refunded) with a
store-credit Mode of Payment, with its customer (features/NOTES.md §5 c).

ERPNext keeps no balance for such a mode, so the whole set is listed again at each pull and
replaces the till's copy in one transaction: a customer's balance is minus the sum of their rows.
One doctype is read: where this ERPNext posts POS sales (15: POS Invoice; 16: its POS Settings).
On 15 a consolidated Sales Invoice repeats the rows of its POS Invoices, so reading both would
count them twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient
from appliance.agent.server_mode import detect
from appliance.store.db import unit_of_work
from appliance.store.models import StoreCreditRow

log = logging.getLogger(__name__)

PAYMENT_ROW = "Sales Invoice Payment"  # the payments table of POS Invoice and Sales Invoice
PAGE = 1000
NAMES_PER_LISTING = 200


def _all(client: ERPNextClient, doctype: str, **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = client.get_list(doctype, limit_start=len(rows), limit_page_length=PAGE, **kw)
        rows += page
        if len(page) < PAGE:
            return rows


def pull_store_credit(
    client: ERPNextClient, write: sessionmaker[Session], modes: Sequence[str]
) -> dict[str, Decimal]:
    """Replace the till's store-credit rows with ERPNext's; returns the customers whose credit
    is overspent (all tills together) and by how much."""
    doctype = detect(client).sale_doctype
    payments = _all(
        client,
        PAYMENT_ROW,
        fields=["parent", "mode_of_payment", "amount"],
        filters=[["mode_of_payment", "in", list(modes)]],
        parent=doctype,
    )
    invoices = sorted({str(p["parent"]) for p in payments})
    submitted: dict[str, str] = {}
    for n in range(0, len(invoices), NAMES_PER_LISTING):
        chunk = invoices[n : n + NAMES_PER_LISTING]
        for doc in _all(
            client,
            doctype,
            fields=["name", "customer"],
            filters=[["name", "in", chunk], ["docstatus", "=", 1]],
        ):
            submitted[str(doc["name"])] = str(doc["customer"])
    rows: list[dict[str, Any]] = [
        {
            "invoice_type": doctype,
            "invoice": str(p["parent"]),
            "customer": submitted[str(p["parent"])],
            "mode_of_payment": str(p["mode_of_payment"]),
            "amount": Decimal(str(p.get("amount") or 0)),
        }
        for p in payments
        if str(p["parent"]) in submitted  # drafts and cancelled ones hold no credit
    ]
    with unit_of_work(write) as uow:
        uow.session.execute(delete(StoreCreditRow))
        if rows:
            uow.session.execute(insert(StoreCreditRow), rows)
        uow.commit()
    log.info("pulled %d store-credit payment rows from %s", len(rows), doctype)
    balances: dict[str, Decimal] = {}
    for row in rows:
        name = str(row["customer"])
        balances[name] = balances.get(name, Decimal(0)) - row["amount"]
    overspent = {c: -b for c, b in sorted(balances.items()) if b < 0}
    for customer, over in overspent.items():
        if over:
            # Tills offline spent the same credit: ERPNext took every sale (it checks nothing);
            # the back office settles it with the customer (docs/agent.md, "Store credit").
            log.warning(
                "store credit of customer %s is overspent by %s (all tills together)",
                customer,
                over,
            )
    return overspent

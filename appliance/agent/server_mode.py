"""Which ERPNext the agent talks to, and what that changes in the documents it posts.

ERPNext 15 takes POS sales as POS Invoices only. ERPNext 16 chooses with ``POS Settings.
invoice_type`` (v16 NOTES §1): "Sales Invoice" (the default on a fresh site) or "POS Invoice"
(an upgraded site). Posting the other doctype answers 417; returns are exempt and go to the
doctype of their original. The till's stored payload is a POS Invoice body either way: the
mapping to a Sales Invoice happens here, at send time, and never touches what the till computed
(items, taxes, totals, posting date and time).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.counter.clock import site_clock
from appliance.store.models import ModeOfPaymentAccount, TotalsSettingsRow
from appliance.store.sales import POS_INVOICE, SALES_INVOICE

log = logging.getLogger(__name__)

VERSIONS_METHOD = "frappe.utils.change_log.get_versions"
POS_SETTINGS = "POS Settings"
INVOICE_TYPE_FIELD = "invoice_type"
IS_CREATED_USING_POS = "is_created_using_pos"
STAMP = "%Y-%m-%d %H:%M:%S"

# ERPNext 16's answers when the doctype does not match POS Settings (v16 NOTES §1, 29 and 51):
# the setting changed since the agent read it.
_WRONG_DOCTYPE = (
    "Sales Invoice mode is activated in POS",
    "Transactions using Sales Invoice in POS are disabled",
)
_OUTDATED_OPENING = re.compile(r"POS Opening Entry .* is outdated", re.IGNORECASE)


@dataclass(frozen=True)
class ServerMode:
    erpnext_version: str  # as ERPNext reports it, e.g. "16.9.1"
    invoice_type: str = POS_INVOICE  # POS Settings.invoice_type; always POS Invoice before 16

    @property
    def major(self) -> int:
        match = re.match(r"\s*v?(\d+)", self.erpnext_version)
        return int(match.group(1)) if match else 15

    @property
    def v16(self) -> bool:
        return self.major >= 16

    @property
    def sale_doctype(self) -> str:
        """Where a new sale goes."""
        if self.v16 and self.invoice_type == SALES_INVOICE:
            return SALES_INVOICE
        return POS_INVOICE

    @property
    def sale_doctypes(self) -> tuple[str, ...]:
        """Where a sale may already be: on 16 the setting may have changed since it was posted,
        and the unique offline id is per table (NOTES §3: the same id can be in both)."""
        return (POS_INVOICE, SALES_INVOICE) if self.v16 else (POS_INVOICE,)

    def describe(self) -> str:
        return f"ERPNext {self.erpnext_version}, POS sales as {self.sale_doctype}"


V15 = ServerMode("15")


def detect(client: ERPNextClient) -> ServerMode:
    """Ask ERPNext its version and, on 16, POS Settings' invoice type (two GETs)."""
    versions = client.call(VERSIONS_METHOD)
    erpnext = versions.get("erpnext") if isinstance(versions, Mapping) else None
    version = str(erpnext.get("version") or "") if isinstance(erpnext, Mapping) else ""
    if not version:
        raise ERPNextError(ErrorKind.STOP, "ERPNext did not report its version (get_versions)")
    mode = ServerMode(version)
    if mode.v16:
        value = client.call(
            "frappe.client.get_single_value", doctype=POS_SETTINGS, field=INVOICE_TYPE_FIELD
        )
        # An empty value reads as the doctype's default, "Sales Invoice" (NOTES §1).
        mode = ServerMode(version, str(value or SALES_INVOICE))
    return mode


def is_wrong_doctype(exc: ERPNextError) -> bool:
    return exc.status == 417 and any(text in exc.message for text in _WRONG_DOCTYPE)


def is_outdated_opening(exc: ERPNextError) -> bool:
    return exc.status == 417 and bool(_OUTDATED_OPENING.search(exc.message))


PaymentAccount = Callable[[str, str], str | None]  # (mode of payment, company) -> account


def sale_body(body: dict[str, Any], doctype: str, payment_account: PaymentAccount) -> None:
    """Turn the till's POS Invoice body into ``doctype``'s, in place."""
    if doctype != SALES_INVOICE:
        return
    # What makes it a POS transaction on 16: opening checks, and picked up by the closing.
    body[IS_CREATED_USING_POS] = 1
    body["is_pos"] = 1
    # The till's naming series is POS Invoice's; a Sales Invoice takes its own default.
    body.pop("naming_series", None)
    if body.get("redeem_loyalty_points"):
        # A Sales Invoice adds the loyalty amount to its payment rows itself (recorded 118,
        # 120, 136): sent, paid_amount would not be what it keeps.
        body.pop("paid_amount", None)
        body.pop("base_paid_amount", None)
    for row in body.get("payments") or []:
        if not row.get("account"):
            # Without it the Sales Invoice fails in GL posting: "Account is required" (NOTES 27).
            account = payment_account(
                str(row.get("mode_of_payment") or ""), str(body.get("company") or "")
            )
            if account:
                row["account"] = account


# A return row's link to the row it returns, per invoice doctype (v16 NOTES §2 "Return", 40).
RETURN_ITEM_LINK = {SALES_INVOICE: "sales_invoice_item", POS_INVOICE: "pos_invoice_item"}


def link_return_items(body: dict[str, Any], doctype: str, original: Mapping[str, Any]) -> None:
    """Name, on each return row, the original's row it returns, in place.

    Without it ERPNext 16 accepts the return with a warning ("Returned Item ... does not exist
    in ...", 40). The till's payload (and a USB bundle's) knows the original only by offline id,
    so rows are matched like ERPNext's own return mapper would: the same item, at the same rate
    first (an item sold on two lines at two prices), with quantity left to return.
    """
    link = RETURN_ITEM_LINK[doctype]
    rows = list(original.get("items") or [])
    left = {str(r.get("name")): abs(_dec(r.get("qty"))) for r in rows}
    for row in body.get("items") or []:
        qty, rate = abs(_dec(row.get("qty"))), _dec(row.get("rate"))
        same = [r for r in rows if r.get("item_code") == row.get("item_code")]
        same.sort(key=lambda r: (_dec(r.get("rate")) != rate, left[str(r.get("name"))] < qty))
        if same:
            chosen = str(same[0].get("name"))
            row[link] = chosen
            left[chosen] -= qty


def _dec(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def opening_body(body: dict[str, Any], site_now: datetime) -> None:
    """An opening from an earlier day is posted as opened now (site time), in place.

    ERPNext 16 refuses every POS sale against an opening whose start is not today in the site's
    time zone (NOTES §2 "Outdated opening", 70-78), however the sale is dated. So a shift synced
    after midnight is opened on the server at the time it is synced; its sales keep their own
    posting date and time, and the closing lists them explicitly.
    """
    start = str(body.get("period_start_date") or "")
    if start[:10] >= site_now.date().isoformat():
        return
    body["period_start_date"] = site_now.strftime(STAMP)
    body["posting_date"] = site_now.date().isoformat()
    log.warning(
        "opening %s started %s, an earlier day: posted as opened %s (ERPNext 16 rule)",
        body.get("offline_id"),
        start,
        body["period_start_date"],
    )


def closing_period(body: dict[str, Any], opening_start: str) -> None:
    """Keep the closing's period inside its (possibly re-dated) opening's, in place."""
    if not opening_start or str(body.get("period_start_date") or "") >= opening_start:
        return
    body["period_start_date"] = opening_start
    if str(body.get("period_end_date") or "") <= opening_start:
        # get_invoices compares whole seconds: the end must come after the start (NOTES 100).
        end = datetime.strptime(opening_start[:19], STAMP) + timedelta(seconds=1)
        body["period_end_date"] = end.strftime(STAMP)
        body["posting_date"] = end.date().isoformat()
        body["posting_time"] = end.time().isoformat()


def closing_tables(rows: list[tuple[str, dict[str, Any]]], mode: ServerMode) -> dict[str, Any]:
    """The closing's invoice tables: ``(doctype in ERPNext, row)`` pairs, row keyed by
    ``invoice``. 15 has one table ``pos_transactions``; 16 splits it into ``pos_invoices`` and
    ``sales_invoices`` (NOTES §2 "Closing", 44, 64, 107) and silently drops the old name, which
    would leave every invoice outside the closing."""
    if not mode.v16:
        return {"pos_transactions": [_row(r, "pos_invoice") for _, r in rows]}
    return {
        "pos_invoices": [_row(r, "pos_invoice") for d, r in rows if d == POS_INVOICE],
        "sales_invoices": [_row(r, "sales_invoice") for d, r in rows if d == SALES_INVOICE],
    }


def _row(row: dict[str, Any], link: str) -> dict[str, Any]:
    out = {link: row["invoice"]}
    out.update({k: v for k, v in row.items() if k != "invoice"})
    return out


# -- what ERPNext knows (the USB import at head office has no store) ---------------------------
SYSTEM_SETTINGS = "System Settings"


def erpnext_site_now(client: ERPNextClient) -> Callable[[], datetime]:
    """The site's wall clock, System Settings' time zone asked once."""
    zone: list[str] = []

    def now() -> datetime:
        if not zone:
            doc = client.get_doc(SYSTEM_SETTINGS, SYSTEM_SETTINGS) or {}
            zone.append(str(doc.get("time_zone") or ""))
        return site_clock(zone[0])()

    return now


def erpnext_payment_account(client: ERPNextClient) -> PaymentAccount:
    """A mode of payment's default account for a company, asked once per pair."""
    known: dict[tuple[str, str], str | None] = {}

    def account(mode_of_payment: str, company: str) -> str | None:
        key = (mode_of_payment, company)
        if key not in known:
            rows = client.get_list(
                "Mode of Payment Account",
                parent="Mode of Payment",
                fields=["default_account"],
                filters=[["parent", "=", mode_of_payment], ["company", "=", company]],
                limit_page_length=1,
            )
            known[key] = str(rows[0].get("default_account") or "") or None if rows else None
        return known[key]

    return account


# -- what the terminal's store knows -------------------------------------------------------------
def store_time_zone(read: sessionmaker[Session]) -> str:
    """The site's System Settings time zone as pulled ("" before the first pull)."""
    with read() as session:
        try:
            row = session.get(TotalsSettingsRow, 1)
            return (row.time_zone if row else None) or ""
        finally:
            session.rollback()


def store_site_now(read: sessionmaker[Session]) -> Callable[[], datetime]:
    """The site's wall clock (System Settings time zone, as pulled), read on each call."""

    def now() -> datetime:
        return site_clock(store_time_zone(read))()

    return now


def store_payment_account(read: sessionmaker[Session]) -> PaymentAccount:
    """A mode of payment's default account for a company, from the pulled masters."""

    def account(mode_of_payment: str, company: str) -> str | None:
        with read() as session:
            try:
                return session.scalar(
                    select(ModeOfPaymentAccount.default_account).where(
                        ModeOfPaymentAccount.parent == mode_of_payment,
                        ModeOfPaymentAccount.company == company,
                    )
                )
            finally:
                session.rollback()

    return account

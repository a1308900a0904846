"""ERPNext 16: a shift whose opening reached ERPNext on an earlier day than its later sales.

v16 refuses every POS sale against an opening that did not start today in the site's time zone,
however the sale is dated: 417 "Outdated POS Opening Entry" (v16 NOTES §2, 70-78). The stale
opening can still be closed normally (75, 81) and a new one opened for today (82). So, as a
careful integrator would, on that answer the agent:

1. closes the stale opening with a POS Closing Entry listing the sales ERPNext already holds
   under it (offline id ``<opening offline id>/close``). Nobody counted the drawer at midnight:
   each mode is declared as expected, and the shift's own closing carries the real count;
2. opens a fresh one for today (offline id ``<shift offline id>/<site date>``), each mode's
   opening amount being what the interim closing expected, so the final count still reconciles;
3. sends the sale again: it keeps its own posting date, time and totals.

Every step is looked up first (status, offline id), so a retry after a crash or a lost answer
posts nothing twice. The shift's own closing later closes the newest server opening of the shift
with the sales not closed yet (:meth:`Rollover.final_closing`). An opening this appliance did not
post (no offline id, or another user) is never touched: the sale is quarantined with a message
telling IT what to do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from appliance.agent import server_mode
from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.server_mode import STAMP, ServerMode
from appliance.sales.payload import OFFLINE_ID_FIELD
from appliance.store.sales import CLOSING_DOCTYPE, OPENING_DOCTYPE, POS_INVOICE, SALES_INVOICE

log = logging.getLogger(__name__)

SEP = "/"  # offline ids are UUIDs: a derived id is ``<uuid>/<something>``
CLOSE_SUFFIX = SEP + "close"
CHUNK = 100
_STALE = re.compile(r"POS Opening Entry - (\S+) is outdated")
_NO_OPENING = "No open POS Opening Entry found"
# Set once ERPNext has closed a sale (16 SI mode links it, POS mode consolidates it; NOTES 46, 66).
CLOSED_FIELD = {SALES_INVOICE: "pos_closing_entry", POS_INVOICE: "consolidated_invoice"}
_INVOICE_FIELDS = (
    "name",
    "posting_date",
    "customer",
    "grand_total",
    "net_total",
    "total_qty",
    "is_return",
    "return_against",
    "change_amount",
)
_TAX_FIELDS = ("parent", "account_head", "rate", "tax_amount_after_discount_amount")


class RolloverError(Exception):
    """The stale opening is not one the agent may close: the message tells IT what to do."""


def shift_of(offline_id: str) -> str:
    """The shift's own offline id, from a derived one."""
    return offline_id.split(SEP, 1)[0]


def _d(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def _closing_row(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """A closing's invoice row (NOTES §2 "Closing"), keyed by ``invoice``."""
    row = {k: invoice.get(k) for k in ("posting_date", "customer", "grand_total", "is_return")}
    row["return_against"] = invoice.get("return_against")
    return {"invoice": invoice["name"], **row}


class Rollover:
    def __init__(
        self,
        client: ERPNextClient,
        user: Callable[[], str],
        site_now: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.user = user
        self.site_now = site_now
        # Told of each interim closing posted: (offline id, ERPNext's name, its answer).
        self.on_closing: Callable[[str, str, Mapping[str, Any]], None] | None = None

    # -- a sale met a stale opening -------------------------------------------------------------
    def handle(self, exc: ERPNextError, body: Mapping[str, Any], mode: ServerMode) -> bool:
        """Put a fresh opening in place for the sale that got ``exc``; False when ``exc`` is
        not about a stale opening. Raises :class:`RolloverError` when it may not."""
        if not mode.v16 or exc.status != 417:
            return False
        match = _STALE.search(exc.message)
        if match:
            opening = self.client.get_doc(OPENING_DOCTYPE, match.group(1))
        elif _NO_OPENING in exc.message:
            opening = self._interrupted(str(body.get("pos_profile") or ""))
        else:
            return False
        if opening is None:
            return False
        offline_id = str(opening.get(OFFLINE_ID_FIELD) or "")
        if not offline_id or opening.get("user") != self.user():
            raise RolloverError(
                f"{exc.message} It was not opened by this appliance: close {opening['name']} in "
                "ERPNext (a POS Closing Entry), then release the quarantined sales "
                "(they are sent under the appliance's own opening for today)."
            )
        if opening.get("status") == "Open":
            carried = self._close(opening, mode)
        else:  # closed by our interim closing before a crash or a lost answer
            closing = self.client.get_doc(CLOSING_DOCTYPE, str(opening["pos_closing_entry"]))
            carried = {
                str(r["mode_of_payment"]): r.get("closing_amount")
                for r in (closing or {}).get("payment_reconciliation") or []
            }
        self._open_today(opening, carried)
        return True

    def _interrupted(self, pos_profile: str) -> dict[str, Any] | None:
        """After a crash between steps 1 and 2: the profile's newest opening, if the agent's
        interim closing closed it (then only step 2 is left)."""
        rows = self.client.get_list(
            OPENING_DOCTYPE,
            fields=["name", "pos_closing_entry"],
            filters=[["pos_profile", "=", pos_profile], ["docstatus", "=", 1]],
            order_by="creation desc",
            limit_page_length=1,
        )
        if not rows or not rows[0].get("pos_closing_entry"):
            return None
        closing = self.client.get_doc(CLOSING_DOCTYPE, str(rows[0]["pos_closing_entry"]))
        if not str((closing or {}).get(OFFLINE_ID_FIELD) or "").endswith(CLOSE_SUFFIX):
            return None
        return self.client.get_doc(OPENING_DOCTYPE, str(rows[0]["name"]))

    def _close(self, opening: Mapping[str, Any], mode: ServerMode) -> dict[str, Any]:
        """Close the stale opening; what each mode of payment holds then."""
        sales = self._open_sales(opening, mode)
        figures = self.figures(sales)
        now = self.site_now()
        opened = {
            str(r["mode_of_payment"]): _d(r.get("opening_amount"))
            for r in opening.get("balance_details") or []
        }
        paid: dict[str, Decimal] = figures.pop("paid")
        reconciliation = [
            {
                "mode_of_payment": m,
                "opening_amount": str(opened.get(m, Decimal(0))),
                "expected_amount": str(opened.get(m, Decimal(0)) + paid.get(m, Decimal(0))),
                "closing_amount": str(opened.get(m, Decimal(0)) + paid.get(m, Decimal(0))),
            }
            for m in [*opened, *(m for m in paid if m not in opened)]
        ]
        body: dict[str, Any] = {
            OFFLINE_ID_FIELD: str(opening[OFFLINE_ID_FIELD]) + CLOSE_SUFFIX,
            "pos_opening_entry": opening["name"],
            "period_start_date": opening["period_start_date"],
            "period_end_date": now.strftime(STAMP),
            "posting_date": now.date().isoformat(),
            "posting_time": now.strftime("%H:%M:%S"),
            "company": opening["company"],
            "pos_profile": opening["pos_profile"],
            "user": opening["user"],
            "payment_reconciliation": reconciliation,
            **figures,
            **server_mode.closing_tables(sales, mode),
            "docstatus": 1,
        }
        self._insert_once(CLOSING_DOCTYPE, body)
        log.warning(
            "closed ERPNext's opening %s, from an earlier day, with %d sales (ERPNext 16 rule)",
            opening["name"],
            len(sales),
        )
        return {r["mode_of_payment"]: r["closing_amount"] for r in reconciliation}

    def _open_today(self, stale: Mapping[str, Any], carried: Mapping[str, Any]) -> None:
        now = self.site_now()
        offline_id = f"{shift_of(str(stale[OFFLINE_ID_FIELD]))}{SEP}{now.date().isoformat()}"
        body = {
            OFFLINE_ID_FIELD: offline_id,
            "period_start_date": now.strftime(STAMP),
            "posting_date": now.date().isoformat(),
            "company": stale["company"],
            "pos_profile": stale["pos_profile"],
            "user": stale["user"],
            "balance_details": [
                {
                    "mode_of_payment": r["mode_of_payment"],
                    "opening_amount": carried.get(str(r["mode_of_payment"]), 0),
                }
                for r in stale.get("balance_details") or []
            ],
            "docstatus": 1,
        }
        name = self._insert_once(OPENING_DOCTYPE, body)
        log.warning("opened %s (%s) for today's sales of the shift", name, offline_id)

    def _insert_once(self, doctype: str, body: dict[str, Any]) -> str:
        """Insert unless ERPNext has this offline id already (submitting a draft left there)."""
        offline_id = str(body[OFFLINE_ID_FIELD])
        found = self.client.get_list(
            doctype,
            fields=["name", "docstatus"],
            filters=[[OFFLINE_ID_FIELD, "=", offline_id]],
        )
        if found:
            if int(found[0].get("docstatus") or 0) == 0:
                self.client.submit(doctype, str(found[0]["name"]))
            return str(found[0]["name"])
        doc = self.client.insert(doctype, body).doc
        if doctype == CLOSING_DOCTYPE and self.on_closing is not None:
            self.on_closing(offline_id, str(doc["name"]), doc)  # may be queued: followed
        return str(doc["name"])

    # -- what ERPNext holds ---------------------------------------------------------------------
    def _open_sales(
        self, opening: Mapping[str, Any], mode: ServerMode
    ) -> list[tuple[str, dict[str, Any]]]:
        """The sales ERPNext took under ``opening`` and no closing has yet, as closing rows."""
        out: list[tuple[str, dict[str, Any]]] = []
        for doctype in mode.sale_doctypes:
            filters: list[list[Any]] = [
                ["pos_profile", "=", opening["pos_profile"]],
                ["docstatus", "=", 1],
                ["owner", "=", opening["user"]],
                ["creation", ">=", opening["creation"]],
                [CLOSED_FIELD[doctype], "is", "not set"],
            ]
            if doctype == SALES_INVOICE:
                filters.append([server_mode.IS_CREATED_USING_POS, "=", 1])
            rows = self.client.get_list(
                doctype, fields=list(_INVOICE_FIELDS), filters=filters, limit_page_length=0
            )
            out.extend((doctype, _closing_row(r)) for r in rows)
        return out

    def figures(self, sales: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
        """A closing's header totals, taxes and money per mode (``paid``) from ERPNext's own
        figures of ``sales`` (closing rows with at least ``invoice``)."""
        by_doctype: dict[str, list[str]] = {}
        for doctype, row in sales:
            by_doctype.setdefault(doctype, []).append(str(row["invoice"]))
        grand = net = qty = Decimal(0)
        taxes: dict[str, dict[str, Decimal]] = {}
        paid: dict[str, Decimal] = {}
        cash = self._cash_modes()
        for doctype, names in by_doctype.items():
            change: dict[str, Decimal] = {}
            for inv in self._rows(doctype, None, names, _INVOICE_FIELDS):
                grand += _d(inv.get("grand_total"))
                net += _d(inv.get("net_total"))
                qty += _d(inv.get("total_qty"))
                change[str(inv["name"])] = _d(inv.get("change_amount"))
            for p in self._rows(
                "Sales Invoice Payment", doctype, names, ("parent", "mode_of_payment", "amount")
            ):
                mode = str(p["mode_of_payment"])
                # Change is given in cash (the till's account_for_change_amount).
                given = change.pop(str(p["parent"]), Decimal(0)) if mode in cash else Decimal(0)
                paid[mode] = paid.get(mode, Decimal(0)) + _d(p.get("amount")) - given
            for t in self._rows("Sales Taxes and Charges", doctype, names, _TAX_FIELDS):
                row = taxes.setdefault(
                    str(t["account_head"]), {"rate": _d(t.get("rate")), "amount": Decimal(0)}
                )
                row["amount"] += _d(t.get("tax_amount_after_discount_amount"))
        return {
            "grand_total": str(grand),
            "net_total": str(net),
            "total_quantity": str(qty),
            "taxes": [
                {"account_head": k, "rate": str(v["rate"]), "amount": str(v["amount"])}
                for k, v in taxes.items()
            ],
            "paid": paid,
        }

    def _rows(
        self, doctype: str, parent: str | None, names: Sequence[str], fields: Iterable[str]
    ) -> list[dict[str, Any]]:
        key = "parent" if parent else "name"
        out: list[dict[str, Any]] = []
        for start in range(0, len(names), CHUNK):
            out += self.client.get_list(
                doctype,
                fields=list(fields),
                filters=[[key, "in", list(names[start : start + CHUNK])]],
                limit_page_length=0,
                parent=parent,
            )
        return out

    def _cash_modes(self) -> set[str]:
        rows = self.client.get_list(
            "Mode of Payment", fields=["name"], filters=[["type", "=", "Cash"]], limit_page_length=0
        )
        return {str(r["name"]) for r in rows}

    # -- the shift's own closing ----------------------------------------------------------------
    def final_closing(
        self, body: dict[str, Any], shift: str, sales: list[tuple[str, dict[str, Any]]]
    ) -> list[tuple[str, dict[str, Any]]]:
        """When the shift was rolled over: close its newest server opening, with the sales no
        interim closing took, in place; the rows to send are returned."""
        rolled = self.client.get_list(
            OPENING_DOCTYPE,
            fields=["name"],
            filters=[[OFFLINE_ID_FIELD, "like", f"{shift}{SEP}%"], ["docstatus", "=", 1]],
            order_by="creation desc",
            limit_page_length=1,
        )
        closed = [bool(r.pop("closed", False)) for _, r in sales]
        if not rolled:
            return sales
        latest = self.client.get_doc(OPENING_DOCTYPE, str(rolled[0]["name"])) or {}
        body["pos_opening_entry"] = latest.get("name")
        left = [sale for sale, done in zip(sales, closed, strict=True) if not done]
        figures = self.figures(left)
        figures.pop("paid")
        body.update(figures)
        # The count is the shift's; only what the drawer held at the last server opening moves.
        opened = {
            str(r["mode_of_payment"]): r.get("opening_amount")
            for r in latest.get("balance_details") or []
        }
        for row in body.get("payment_reconciliation") or []:
            row["opening_amount"] = opened.get(str(row["mode_of_payment"]), 0)
        return left

"""Incremental pull of masters: ERPNext's ``modified`` as the cursor, small chunked commits.

Per doctype, pages come in ``modified asc, name asc`` order with a keyset cursor
(``modified > c`` or ``modified = c and name > n``, as ``filters`` + ``or_filters``, FACTS
§1.8), so documents sharing one ``modified`` never loop or get skipped. A page's child tables
come in one listing per table (``parent=<DocType>``, ``parent in [...]``). Each page is applied
with ``apply_masters`` in its own short transaction together with the advanced cursor: a crash
resumes after the last applied page, and a sale commit never waits behind more than one page.

Singles (System Settings, Global Defaults) are read whole and applied when their ``modified``
changed. Not yet: deletions (name reconciliation), the POS Profile's scope filters, customer
addresses, cashier PINs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.store.db import unit_of_work
from appliance.store.masters import DOCTYPES, GLOBAL_DEFAULTS, SYSTEM_SETTINGS, apply_masters
from appliance.store.models import SyncState

log = logging.getLogger(__name__)

SINGLES = (SYSTEM_SETTINGS, GLOBAL_DEFAULTS)
# (parent doctype, table field) -> child doctype, to list child rows directly.
CHILD_DOCTYPES: dict[tuple[str, str], str] = {
    ("Item Group", "taxes"): "Item Tax",
    ("Item", "taxes"): "Item Tax",
    ("Item", "barcodes"): "Item Barcode",
    ("Item", "uoms"): "UOM Conversion Detail",
    ("Sales Taxes and Charges Template", "taxes"): "Sales Taxes and Charges",
    ("Item Tax Template", "taxes"): "Item Tax Template Detail",
    ("Mode of Payment", "accounts"): "Mode of Payment Account",
    ("POS Profile", "payments"): "POS Payment Method",
    ("POS Profile", "applicable_for_users"): "POS Profile User",
    ("POS Profile", "item_groups"): "POS Item Group",
    ("POS Profile", "customer_groups"): "POS Customer Group",
    ("Pricing Rule", "items"): "Pricing Rule Item Code",
    ("Pricing Rule", "item_groups"): "Pricing Rule Item Group",
    ("Pricing Rule", "brands"): "Pricing Rule Brand",
}
_CHILD_META = ("parent", "parentfield", "parenttype", "doctype", "docstatus", "owner")


def cursor_key(doctype: str) -> str:
    return f"pull.{doctype}.modified"


@dataclass
class PullReport:
    applied: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    complete: bool = False  # every doctype was brought up to date

    @property
    def total(self) -> int:
        return sum(self.applied.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": dict(self.applied),
            "pages": self.pages,
            "total": self.total,
            "complete": self.complete,
        }


class Puller:
    def __init__(
        self,
        client: ERPNextClient,
        read: sessionmaker[Session],
        write: sessionmaker[Session],
        *,
        page_size: int = 500,
        doctypes: Sequence[str] = DOCTYPES,
    ) -> None:
        self.client = client
        self._read = read
        self._write = write
        self.page_size = page_size
        self.doctypes = tuple(doctypes)
        self._on_page: Callable[[str, PullReport], bool] | None = None

    def pull(self, on_page: Callable[[str, PullReport], bool] | None = None) -> PullReport:
        """One cycle over every doctype. ERPNext errors propagate (the loop classifies them).

        ``on_page(doctype, report)`` is called after each page is committed with its cursor (the
        service reports progress and pings its watchdog there); when it returns False the pull
        ends there (``report.complete`` stays False) and the next one resumes from the cursors.
        """
        report = PullReport()
        self._on_page = on_page
        for doctype in self.doctypes:
            going = (
                self._pull_single(doctype, report)
                if doctype in SINGLES
                else self._pull_doctype(doctype, report)
            )
            if not going:
                return report
        report.complete = True
        return report

    # -- cursors -------------------------------------------------------------------------------
    def _cursor(self, doctype: str) -> tuple[str, str] | None:
        with self._read() as session:
            try:
                row = session.get(SyncState, cursor_key(doctype))
                if row is None:
                    return None
                value = json.loads(row.value)
                return str(value["modified"]), str(value.get("name", ""))
            finally:
                session.rollback()

    def _apply(self, doctype: str, docs: list[dict[str, Any]], cursor: tuple[str, str]) -> None:
        with unit_of_work(self._write) as uow:
            apply_masters(uow.session, docs)
            value = json.dumps({"modified": cursor[0], "name": cursor[1]})
            row = uow.session.get(SyncState, cursor_key(doctype))
            if row is None:
                uow.session.add(SyncState(key=cursor_key(doctype), value=value))
            else:
                row.value = value
            uow.commit()

    # -- doctypes ------------------------------------------------------------------------------
    def _pull_single(self, doctype: str, report: PullReport) -> bool:
        doc = self.client.get_doc(doctype, doctype)
        if doc is None:
            return True
        cursor = self._cursor(doctype)
        modified = str(doc.get("modified") or "")
        if cursor is not None and cursor[0] == modified:
            return True
        doc.setdefault("doctype", doctype)
        self._apply(doctype, [doc], (modified, doctype))
        report.applied[doctype] = report.applied.get(doctype, 0) + 1
        report.pages += 1
        return self._on_page is None or self._on_page(doctype, report)

    def _pull_doctype(self, doctype: str, report: PullReport) -> bool:
        tables = [
            (key, child) for (parent, key), child in CHILD_DOCTYPES.items() if parent == doctype
        ]
        cursor = self._cursor(doctype)
        while True:
            filters: Any = None
            or_filters: Any = None
            if cursor is not None:
                filters = [["modified", ">=", cursor[0]]]
                or_filters = [["modified", ">", cursor[0]], ["name", ">", cursor[1]]]
            rows = self.client.get_list(
                doctype,
                fields=["*"],
                filters=filters,
                or_filters=or_filters,
                order_by="modified asc, name asc",
                limit_page_length=self.page_size,
            )
            if not rows:
                return True
            self._attach_children(doctype, rows, tables)
            for row in rows:
                row["doctype"] = doctype
            last = rows[-1]
            cursor = (str(last["modified"]), str(last["name"]))
            self._apply(doctype, rows, cursor)
            report.applied[doctype] = report.applied.get(doctype, 0) + len(rows)
            report.pages += 1
            log.info(
                "pulled %d %s up to %s", len(rows), doctype, cursor[0], extra={"DOCTYPE": doctype}
            )
            if self._on_page is not None and not self._on_page(doctype, report):
                return False
            if len(rows) < self.page_size:
                return True

    def _attach_children(
        self, doctype: str, rows: list[dict[str, Any]], tables: list[tuple[str, str]]
    ) -> None:
        names = [str(r["name"]) for r in rows]
        for key, child in tables:
            children = self.client.get_list(
                child,
                fields=["*"],
                filters=[["parent", "in", names]],
                order_by="idx asc",
                limit_page_length=0,
                parent=doctype,
            )
            by_parent: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
            for child_row in children:
                if child_row.get("parentfield") not in (None, key):
                    continue
                parent = str(child_row.get("parent"))
                if parent in by_parent:
                    by_parent[parent].append(
                        {k: v for k, v in child_row.items() if k not in _CHILD_META}
                    )
            for row in rows:
                row[key] = by_parent[str(row["name"])]


__all__ = ["ERPNextError", "PullReport", "Puller", "cursor_key"]

"""The POS Closing Entry's consolidation, as ERPNext runs it (../shared/erpnext/closing/CLOSING.md,
README "Stock deployments").

On submit, a closing links its Sales Invoices (16's Sales Invoice mode) at once. Its POS
Invoices are merged into Sales Invoices and its opening is closed by the consolidation: in the
request when it lists fewer than :data:`QUEUE_FROM` POS Invoices, else in a background job. Then
the POST answers ``status: "Queued"`` with the note "POS Invoices will be consolidated in a
background process" (recorded 04), the opening stays Open, and the job ends the closing as
"Submitted" (05) or, when the merge fails, "Failed" with ``error_message`` set and nothing merged
(no HTTP error: nobody is waiting for an answer). A closing on 16's Sales Invoice mode lists no
POS Invoices, so it is never queued.

The fake's "worker" runs the queued jobs at the start of the next request (the real one finished
within seconds). Test switches: :attr:`Consolidation.hold` (no worker running: jobs stay queued)
and :attr:`Consolidation.fail_with` (the next jobs fail with this ``error_message``, as a merge
whose ledger does not balance does); :meth:`Consolidation.retry` is ERPNext's Retry button;
:attr:`Consolidation.scheduler` False refuses a closing that would be queued (417).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakeerp import errors, serials, v16

if TYPE_CHECKING:
    from fakeerp.site import Doc, Site

QUEUE_FROM = 10  # pos_invoice_merge_log.consolidate_pos_invoices: 10 or more are enqueued
QUEUED_NOTE = {
    "message": "POS Invoices will be consolidated in a background process",
    "title": "Message",
    "alert": 1,
}
POS_INVOICE = "POS Invoice"


@dataclass
class Consolidation:
    queued: list[str] = field(default_factory=list)  # closing entries waiting for the worker
    hold: bool = False
    fail_with: str | None = None
    scheduler: bool = True  # System Settings enable_scheduler: a job can be queued

    def validate(self, site: Site, doc: Doc) -> None:
        """A closing that would be queued needs the scheduler on, else the whole insert is
        refused (CLOSING.md: 417 "Scheduler is inactive. Cannot enqueue job.")."""
        if self.scheduler or int(doc.get("docstatus") or 0) != 1:
            return
        rows = v16.closing_rows(site, doc)
        if sum(inv_doctype == POS_INVOICE for inv_doctype, _, _ in rows) >= QUEUE_FROM:
            raise errors.validation(
                "Scheduler is inactive. Cannot enqueue job.", "Scheduler Inactive"
            )

    def on_submit(self, site: Site, doc: Doc) -> list[dict[str, Any]]:
        """The closing was submitted: its notes for the answer (the queue's, if queued)."""
        rows = v16.closing_rows(site, doc)
        for inv_doctype, link, row in rows:
            if inv_doctype != POS_INVOICE:  # 16's Sales Invoice mode: linked, not merged
                site.docs[inv_doctype][row[link]].update(
                    pos_closing_entry=doc["name"], modified=site._stamp()
                )
        if sum(inv_doctype == POS_INVOICE for inv_doctype, _, _ in rows) >= QUEUE_FROM:
            doc["status"] = "Queued"
            self.queued.append(str(doc["name"]))
            return [dict(QUEUED_NOTE)]
        self._merge(site, doc)
        return []

    def run(self, site: Site) -> None:
        """The worker: every queued job, in order (the caller holds the site lock)."""
        if self.hold:
            return
        while self.queued:
            doc = site.docs["POS Closing Entry"].get(self.queued.pop(0))
            if doc is None:
                continue
            if self.fail_with is not None:
                # The job rolls back its merge and records why on the closing (no HTTP error).
                doc.update(status="Failed", error_message=self.fail_with, modified=site._stamp())
                continue
            self._merge(site, doc)
            doc.update(error_message="", modified=site._stamp())

    def retry(self, site: Site, name: str) -> None:
        """ERPNext's Retry on a failed closing: queued again."""
        doc = site.docs["POS Closing Entry"][name]
        doc.update(status="Queued", modified=site._stamp())
        self.queued.append(name)

    @staticmethod
    def _merge(site: Site, doc: Doc) -> None:
        """Merge the POS Invoices (one Sales Invoice per customer, returns apart), then close
        the opening and say Submitted."""
        merged: dict[tuple[str, bool], str] = {}
        for inv_doctype, link, row in v16.closing_rows(site, doc):
            if inv_doctype != POS_INVOICE:
                continue
            inv = site.docs[inv_doctype][row[link]]
            key = (str(inv.get("customer")), bool(inv.get("is_return")))
            if key not in merged:
                merged[key] = site._next_name("Sales Invoice")
            inv.update(
                status="Consolidated", consolidated_invoice=merged[key], modified=site._stamp()
            )
            serials.deliver(site, [inv])
        opening = site.docs["POS Opening Entry"][doc["pos_opening_entry"]]
        opening.update(status="Closed", pos_closing_entry=doc["name"], modified=site._stamp())
        doc["status"] = "Submitted"

"""``appliance import``: send a verified bundle's documents to ERPNext, exactly once.

The documents go through :class:`appliance.agent.push.DocumentSender`, the agent's own code:
looked up by offline id in batches first (what ERPNext has is "found", never sent again), then
inserted and submitted with ERPNext's names for their references; a unique-id violation counts
as "found". Importing a bundle twice, or after the terminal's agent pushed the same documents,
creates nothing new. Nothing is written anywhere but ERPNext: the terminal's own agent marks its
entries synced when it next reaches ERPNext and finds them there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from appliance.agent import server_mode
from appliance.agent.client import ERPNextClient
from appliance.agent.ledger import Job
from appliance.agent.push import DocumentSender, Outcome, PushReport, StopError, rank
from appliance.transfer.bundle import Bundle
from appliance.transfer.bundle_ledger import BundleLedger

SHOWN = 50  # outcomes listed one by one in the summary (the counts are always whole)


@dataclass(frozen=True)
class ImportResult:
    bundle: Bundle
    report: PushReport
    seconds: float

    @property
    def settled(self) -> int:
        """Documents ERPNext has now."""
        return self.report.synced

    @property
    def complete(self) -> bool:
        return self.settled == self.bundle.manifest.documents and not self.report.mismatches

    @property
    def link_failed(self) -> bool:
        return self.report.retry_after is not None

    def as_dict(self) -> dict[str, Any]:
        manifest = self.bundle.manifest
        per_doctype: dict[str, dict[str, int]] = {
            doctype: {"documents": n, "created": 0, "found": 0, "quarantined": 0, "waiting": 0}
            for doctype, n in manifest.counts.items()
        }
        r = self.report
        for key, outcomes in (
            ("created", r.created),
            ("found", r.found),
            ("quarantined", r.quarantined),
            ("waiting", r.retrying),
        ):
            for outcome in outcomes:
                per_doctype[outcome.doctype][key] += 1
        return {
            "bundle_id": manifest.bundle_id,
            "terminal": manifest.terminal,
            "created_at": manifest.created_at,
            "documents": manifest.documents,
            "created": len(r.created),
            "found": len(r.found),
            "quarantined": len(r.quarantined),
            "waiting": len(r.retrying),
            "not_tried": manifest.documents - self._tried(),
            "by_doctype": per_doctype,
            "quarantined_documents": _listed(r.quarantined),
            "waiting_documents": _listed(r.retrying),
            "mismatches": _listed(r.mismatches),
            "link_failed": self.link_failed,
            "stopped": r.stopped,
            "seconds": round(self.seconds, 3),
        }

    def _tried(self) -> int:
        r = self.report
        outcomes = (*r.created, *r.found, *r.quarantined, *r.retrying)
        return len({(o.doctype, o.offline_id) for o in outcomes})


def _listed(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [o.as_dict() for o in outcomes[:SHOWN]]


def import_bundle(bundle: Bundle, client: ERPNextClient, *, batch_size: int = 50) -> ImportResult:
    """Send every document, in dependency order, in batches; stop early only when the link
    fails or ERPNext refuses us (the summary says which; running it again is safe)."""
    started = time.monotonic()
    # No store here: what a v16 Sales Invoice needs besides the payload is asked of ERPNext.
    sender = DocumentSender(
        client,
        BundleLedger(bundle),
        site_now=server_mode.erpnext_site_now(client),
        payment_account=server_mode.erpnext_payment_account(client),
    )
    report = PushReport()
    # Every document once, and only in this order: opening, customers, sales, returns, closing.
    jobs = sorted(
        (Job(d.seq, d.doctype, d.offline_id, d.payload, attempts=1) for d in bundle.documents),
        key=lambda j: (rank(j.doctype, j.payload), j.id),
    )
    for start in range(0, len(jobs), batch_size):
        try:
            sender.send_batch(jobs[start : start + batch_size], report)
        except StopError as stop:
            report.stopped = stop.error.message
            break
        if report.retry_after is not None:
            break
    return ImportResult(bundle, report, time.monotonic() - started)

"""A verified bundle as the push's ledger: ERPNext names are learnt as the import goes (plus the
ones the terminal already had), and outcomes live only as long as the import."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from appliance.agent.ledger import ClosingSale, Job, NotReadyError
from appliance.transfer.bundle import Bundle, Document


class BundleLedger:
    def __init__(self, bundle: Bundle) -> None:
        self._documents: dict[tuple[str, str], Document] = {
            (d.doctype, d.offline_id): d for d in bundle.documents
        }
        self._by_seq = {d.seq: d for d in bundle.documents}
        self._names: dict[tuple[str, str], str] = {
            (r.doctype, r.offline_id): r.erpnext_name for r in bundle.references
        }
        # A return names its original by offline id alone: which doctype carries it.
        self._doctype_of: dict[str, str] = {}
        for doctype, offline_id in [*self._names, *self._documents]:
            self._doctype_of.setdefault(offline_id, doctype)
        self._unsettled: dict[tuple[str, str], str] = {}  # why a document is not in ERPNext

    # -- References ----------------------------------------------------------------------------
    @contextmanager
    def references(self) -> Iterator[BundleLedger]:
        yield self

    def name_of(self, doctype: str | None, offline_id: str, what: str) -> str:
        key = (doctype or self._doctype_of.get(offline_id, ""), offline_id)
        name = self._names.get(key)
        if name is not None:
            return name
        if key in self._documents:
            why = self._unsettled.get(key, "not sent yet")
            raise NotReadyError(f"waiting for {what} {offline_id} ({why})")
        raise NotReadyError(f"{what} {offline_id} is not in the bundle", permanent=True)

    def created_offline(self, doctype: str, offline_id: str) -> bool:
        return (doctype, offline_id) in self._names or (doctype, offline_id) in self._documents

    def journal_anchor(self, offline_id: str) -> str | None:
        return None  # a bundle carries no journal: the till's own agent anchors nothing here

    def closing_sales(self, job: Job) -> list[ClosingSale]:
        sales = self._by_seq[job.id].closing_sales
        if sales is None:
            raise NotReadyError("the bundle lists no sales for this closing entry", permanent=True)
        return sales

    # -- Ledger --------------------------------------------------------------------------------
    def our_totals(self, job: Job) -> Mapping[str, Decimal] | None:
        totals = self._by_seq[job.id].totals
        return {k: Decimal(v) for k, v in totals.items()} if totals is not None else None

    def done(self, job: Job, name: str, mismatch: str | None) -> None:
        key = (job.doctype, job.offline_id)
        self._names[key] = name
        self._unsettled.pop(key, None)

    def quarantine(self, job: Job, message: str) -> None:
        self._unsettled[(job.doctype, job.offline_id)] = f"refused: {message}"

    def retry(
        self, jobs: Sequence[Job], message: str, retry_at: datetime, *, answered: bool = False
    ) -> None:
        for job in jobs:
            self._unsettled[(job.doctype, job.offline_id)] = message

    def release(self, jobs: Sequence[Job], message: str | None) -> None:
        for job in jobs:
            self._unsettled[(job.doctype, job.offline_id)] = message or "not tried"

    def server_version(self, major: int) -> None:
        """Nothing to record: the bundle's sales were computed on the till already."""

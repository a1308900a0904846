"""The terminal's outbox as the push's ledger: references resolve through the outbox entries'
ERPNext names, every outcome is its own short transaction on the entry."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.ledger import COMPARED_TOTALS, ClosingSale, Job, NotReadyError
from appliance.scrub import scrub, scrub_optional
from appliance.store import journal, masters, outbox
from appliance.store.db import unit_of_work
from appliance.store.journal import JournalKind
from appliance.store.models import OutboxEntry, OutboxState, PosInvoice
from appliance.store.sales import CLOSING_DOCTYPE, OPENING_DOCTYPE, SALE_DOCTYPES, sale_anchor

log = logging.getLogger(__name__)

AGENT_ACTOR = "agent"  # the journal's actor for what the sync agent records
SHIFT_DOCTYPES = (OPENING_DOCTYPE, CLOSING_DOCTYPE)


def closing_sales(session: Session, entry: OutboxEntry) -> list[ClosingSale]:
    """The sales a closing entry's outbox entry waits for, oldest first."""
    rows = []
    for dep in sorted(
        (d for d in entry.depends_on if d.doctype in SALE_DOCTYPES), key=lambda d: d.id
    ):
        sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == dep.offline_id))
        if sale is None:
            raise NotReadyError(f"sale {dep.offline_id} is not in the store", permanent=True)
        rows.append(
            ClosingSale(
                doctype=dep.doctype,
                offline_id=dep.offline_id,
                posting_date=sale.posting_date.isoformat(),
                customer=sale.customer,
                grand_total=sale.grand_total,
                is_return=int(sale.is_return),
            )
        )
    return rows


def sale_totals(session: Session, offline_id: str) -> dict[str, Decimal] | None:
    sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == offline_id))
    if sale is None:
        return None
    ours: dict[str, Decimal] = {k: getattr(sale, k) for k in COMPARED_TOTALS}
    for tax in sale.taxes:
        ours[f"taxes[{tax.idx}] {tax.account_head}"] = tax.tax_amount_after_discount_amount
    return ours


class StoreReferences:
    def __init__(self, session: Session) -> None:
        self.session = session

    def name_of(self, doctype: str | None, offline_id: str, what: str) -> str:
        entry = (
            outbox.find_entry(self.session, doctype, offline_id)
            if doctype
            else outbox.find_by_offline_id(self.session, offline_id)
        )
        if entry is None:
            raise NotReadyError(f"{what} {offline_id} is not in the outbox", permanent=True)
        if entry.state is not OutboxState.DONE or not entry.erpnext_name:
            raise NotReadyError(f"waiting for {what} {offline_id} ({entry.state.value})")
        return entry.erpnext_name

    def created_offline(self, doctype: str, offline_id: str) -> bool:
        return outbox.find_entry(self.session, doctype, offline_id) is not None

    def journal_anchor(self, offline_id: str) -> str | None:
        return sale_anchor(self.session, offline_id)

    def closing_sales(self, job: Job) -> list[ClosingSale]:
        entry = self.session.get(OutboxEntry, job.id)
        if entry is None:
            raise RuntimeError(f"outbox entry {job.id} vanished")
        return closing_sales(self.session, entry)


def journal_outcome(
    session: Session, kind: JournalKind, job: Job, message: str, name: str | None = None
) -> None:
    # In the outcome's own transaction: the journal says what the outbox says, or nothing.
    data = {"doctype": job.doctype, "message": message, "attempts": job.attempts}
    if name:
        data["erpnext_name"] = name
    journal.append(session, kind, AGENT_ACTOR, job.offline_id, data)


class OutboxLedger:
    """With ``group_done``, DONE marks wait for :meth:`flush` (the push calls it at the end of
    each batch) and are committed together: a disk sync per batch, not per document. Safe for
    exactly-once: until then the entries stay IN_FLIGHT in the store, and an agent killed
    before the flush finds them in ERPNext by offline id at its next start, as after any kill
    between ERPNext's commit and ours. No document of a batch refers to another of the same
    batch (an entry is claimed only once all it depends on is DONE), so no reference waits
    on a pending mark. Any other outcome flushes first: the store's order stays ERPNext's."""

    def __init__(
        self, read: sessionmaker[Session], write: sessionmaker[Session], *, group_done: bool = False
    ) -> None:
        self._read = read
        self._write = write
        self._group_done = group_done
        self._pending: list[tuple[Job, str, str | None]] = []

    @contextmanager
    def references(self) -> Iterator[StoreReferences]:
        with self._read() as session:
            try:
                yield StoreReferences(session)
            finally:
                session.rollback()

    def our_totals(self, job: Job) -> Mapping[str, Decimal] | None:
        with self._read() as session:
            try:
                return sale_totals(session, job.offline_id)
            finally:
                session.rollback()

    def _entry(self, session: Session, job: Job) -> OutboxEntry:
        entry = session.get(OutboxEntry, job.id)
        if entry is None:
            raise RuntimeError(f"outbox entry {job.id} vanished")
        return entry

    def done(self, job: Job, name: str, mismatch: str | None) -> None:
        self._pending.append((job, name, scrub_optional(mismatch)))
        if not self._group_done or job.doctype in SHIFT_DOCTYPES:
            # An opening or closing settles at once: the shift's watch follows it from here.
            self.flush()

    def flush(self) -> None:
        """Commit the DONE marks waiting (one transaction)."""
        if not self._pending:
            return
        with unit_of_work(self._write) as uow:
            for job, name, mismatch in self._pending:
                entry = self._entry(uow.session, job)
                outbox.mark_done(uow.session, entry, name)
                if mismatch:
                    entry.last_error = mismatch
                    journal_outcome(uow.session, JournalKind.SYNC_MISMATCH, job, mismatch, name)
            uow.commit()
        self._pending.clear()

    def quarantine(self, job: Job, message: str) -> None:
        self.flush()
        message = scrub(message)  # kept in the outbox and the journal: never a credential
        with unit_of_work(self._write) as uow:
            outbox.quarantine(uow.session, self._entry(uow.session, job), message)
            journal_outcome(uow.session, JournalKind.SYNC_QUARANTINE, job, message)
            uow.commit()

    def retry(
        self, jobs: Sequence[Job], message: str, retry_at: datetime, *, answered: bool = False
    ) -> None:
        self.flush()
        message = scrub(message)
        with unit_of_work(self._write) as uow:
            for job in jobs:
                entry = self._entry(uow.session, job)
                outbox.mark_failed(uow.session, entry, message, retry_at, answered=answered)
            uow.commit()

    def server_version(self, major: int) -> None:
        self.flush()
        with unit_of_work(self._write) as uow:
            if masters.record_erpnext_version(uow.session, major):
                log.info("totals follow ERPNext %d's rules from now on", major)
            uow.commit()

    def release(self, jobs: Sequence[Job], message: str | None) -> None:
        self.flush()
        message = scrub_optional(message)
        with unit_of_work(self._write) as uow:
            for job in jobs:
                entry = self._entry(uow.session, job)
                if entry.state is OutboxState.IN_FLIGHT:
                    entry.state = OutboxState.READY
                    if message:
                        entry.last_error = message
            uow.commit()

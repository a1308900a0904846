"""Exactly-once push of the outbox to ERPNext.

One cycle takes batches of sendable entries (READY, every dependency DONE), so the order is the
dependency order: opening entry -> customers created offline -> sales -> returns -> closing
entry. For each batch:

1. mark the entries IN_FLIGHT (one short transaction; a crash leaves them IN_FLIGHT and
   :meth:`Pusher.recover` puts them back to READY at the next start);
2. ask ERPNext which offline ids it already has, one filtered list per doctype
   (``filters=[["offline_id","in",[...]]]``): those are marked DONE with ERPNext's name, never
   sent again; a draft left by someone is submitted, a cancelled one is quarantined;
3. send the rest, with ERPNext names substituted for offline references (the customer created
   offline, ``return_against``, ``pos_opening_entry``, the closing's ``pos_transactions``);
4. per answer, in its own short transaction:
   - created: DONE with ERPNext's name; a sale's totals are compared with ours and a
     difference is flagged loudly (``last_error`` starting ``TOTALS MISMATCH`` and an error log
     line), never silently accepted;
   - 417 UniqueValidationError / 409: it is there already: look it up, DONE;
   - no answer (timeout, connection dropped after sending): look it up at once; if absent,
     back off;
   - RETRY (5xx, 429, network): back off with jitter, and end the cycle when the link itself
     is unwell;
   - QUARANTINE (417, 404): QUARANTINED with ERPNext's own message; only its dependents wait;
   - STOP (401, 403, TLS, missing custom field): the entry goes back to READY untouched and
     the cycle stops with a clear reason.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.sales.payload import OFFLINE_ID_FIELD, RETURN_AGAINST_OFFLINE_FIELD
from appliance.store import outbox
from appliance.store.db import unit_of_work
from appliance.store.models import OutboxEntry, OutboxState, PosInvoice
from appliance.store.sales import (
    CLOSING_DOCTYPE,
    CUSTOMER_DOCTYPE,
    OPENING_DOCTYPE,
    SALE_DOCTYPES,
)

log = logging.getLogger(__name__)

OPENING_OFFLINE_FIELD = "offline_pos_opening_entry"
MISMATCH_PREFIX = "TOTALS MISMATCH"
LOOKUP_CHUNK = 100
# Totals are compared to half a cent: ERPNext answers floats, we keep Decimals.
TOLERANCE = Decimal("0.005")
COMPARED_TOTALS = ("net_total", "total_taxes_and_charges", "grand_total", "rounded_total")


def _rank(doctype: str, payload: Mapping[str, Any]) -> int:
    if doctype == OPENING_DOCTYPE:
        return 0
    if doctype == CUSTOMER_DOCTYPE:
        return 1
    if doctype in SALE_DOCTYPES:
        return 3 if payload.get("is_return") else 2
    if doctype == CLOSING_DOCTYPE:
        return 4
    return 5


@dataclass
class Backoff:
    """Exponential back-off with jitter: the n-th failure waits between half and all of
    ``min(cap, base * 2**(n-1))`` seconds, so many tills do not return in step."""

    base: float = 2.0
    cap: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        full = min(self.cap, self.base * 2 ** max(0, failures - 1))
        return float(full / 2 + self.rng.uniform(0, full / 2))


@dataclass
class Outcome:
    doctype: str
    offline_id: str
    result: str  # created | found | quarantined | retry | stopped | mismatch
    erpnext_name: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class PushReport:
    created: list[Outcome] = field(default_factory=list)
    found: list[Outcome] = field(default_factory=list)  # already in ERPNext: not sent again
    quarantined: list[Outcome] = field(default_factory=list)
    retrying: list[Outcome] = field(default_factory=list)
    mismatches: list[Outcome] = field(default_factory=list)
    retry_after: float | None = None  # the link is unwell: wait this long before the next cycle
    stopped: str | None = None  # the agent cannot work until a person acts

    @property
    def synced(self) -> int:
        return len(self.created) + len(self.found)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "found": len(self.found),
            "quarantined": [o.as_dict() for o in self.quarantined],
            "retrying": [o.as_dict() for o in self.retrying],
            "mismatches": [o.as_dict() for o in self.mismatches],
            "retry_after": self.retry_after,
            "stopped": self.stopped,
        }


@dataclass
class _Job:
    id: int
    doctype: str
    offline_id: str
    payload: dict[str, Any]
    attempts: int


class _NotReadyError(Exception):
    """A reference cannot be resolved yet (or at all): the message says which."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class _StopError(Exception):
    def __init__(self, error: ERPNextError) -> None:
        super().__init__(str(error))
        self.error = error


class Pusher:
    def __init__(
        self,
        client: ERPNextClient,
        read: sessionmaker[Session],
        write: sessionmaker[Session],
        *,
        batch_size: int = 50,
        backoff: Backoff | None = None,
        max_server_errors: int = 8,
        erpnext_user: str | None = None,
    ) -> None:
        self.client = client
        self._read = read
        self._write = write
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        # A 500 carrying a Python exception is ERPNext failing on this document (e.g. the
        # TypeError for an unknown customer): after this many tries it is quarantined.
        self.max_server_errors = max_server_errors
        self._user = erpnext_user

    # -- life cycle ----------------------------------------------------------------------------
    def recover(self) -> int:
        """At start-up: whatever was IN_FLIGHT goes back to READY (then looked up before any
        resend, like every entry)."""
        with unit_of_work(self._write) as uow:
            count = outbox.reset_in_flight(uow.session)
            uow.commit()
        if count:
            log.warning("%d outbox entries were in flight at start-up: re-checking them", count)
        return count

    def push(
        self,
        max_batches: int | None = None,
        on_batch: Callable[[PushReport], bool] | None = None,
    ) -> PushReport:
        """One cycle: send what can be sent now. Never raises for ERPNext's answers.

        ``on_batch`` is called after each batch, once every entry of it is settled in the store
        (the service reports progress and pings its watchdog there); when it returns False the
        cycle ends there, as if nothing more were sendable.
        """
        report = PushReport()
        batches = 0
        while max_batches is None or batches < max_batches:
            jobs = self._claim()
            if not jobs:
                break
            batches += 1
            try:
                self._run_batch(jobs, report)
            except _StopError as stop:
                report.stopped = stop.error.message
                log.error("push stopped: %s", stop.error)
                break
            if report.retry_after is not None:
                break
            if on_batch is not None and not on_batch(report):
                break
        return report

    # -- a batch -------------------------------------------------------------------------------
    def _claim(self) -> list[_Job]:
        with unit_of_work(self._write) as uow:
            entries = outbox.sendable(uow.session, self.batch_size)
            jobs = []
            for entry in entries:
                outbox.mark_in_flight(uow.session, entry)
                jobs.append(
                    _Job(
                        entry.id,
                        entry.doctype,
                        entry.offline_id,
                        json.loads(entry.payload),
                        entry.attempts,
                    )
                )
            uow.commit()
        jobs.sort(key=lambda j: (_rank(j.doctype, j.payload), j.id))
        return jobs

    def _run_batch(self, jobs: list[_Job], report: PushReport) -> None:
        try:
            existing = self._lookup_many(jobs)
        except _StopError as stop:
            self._release(jobs, stop.error.message)
            raise
        except ERPNextError as exc:  # the batch lookup failed: the link is unwell
            report.retry_after = self._fail_all(jobs, exc, report)
            return
        for n, job in enumerate(jobs):
            try:
                self._run_job(job, existing.get((job.doctype, job.offline_id)), report)
            except _StopError as stop:
                self._release(jobs[n:], stop.error.message)
                raise
            if report.retry_after is not None:
                # The link failed mid-batch: the rest go back untouched, for the next cycle.
                self._release(jobs[n + 1 :], None)
                return

    def _run_job(self, job: _Job, row: dict[str, Any] | None, report: PushReport) -> None:
        try:
            if row is not None:
                self._already_there(job, row, report)
                return
            try:
                body = self._prepare(job)
            except _NotReadyError as exc:
                if exc.permanent:
                    self._quarantine(job, str(exc), report)
                else:
                    self._retry(job, str(exc), report, link_trouble=False)
                return
            self._send(job, body, report)
        except ERPNextError as exc:
            self._on_error(job, exc, report)

    def _send(self, job: _Job, body: dict[str, Any], report: PushReport) -> None:
        try:
            inserted = self.client.insert(job.doctype, body)
        except ERPNextError as exc:
            if exc.is_duplicate or exc.maybe_committed:
                # Already there (unique offline id), or maybe created before the answer was
                # lost: ask ERPNext before anything else.
                row = self._lookup_one(job)
                if row is not None:
                    self._already_there(job, row, report)
                    return
                if exc.is_duplicate:
                    self._quarantine(
                        job, f"ERPNext says it exists but has no such offline id: {exc}", report
                    )
                    return
            raise
        doc = inserted.doc
        name = str(doc["name"])
        mismatch = self._compare_totals(job, doc) if job.doctype in SALE_DOCTYPES else None
        self._done(job, name, mismatch)
        outcome = Outcome(job.doctype, job.offline_id, "created", name, mismatch)
        report.created.append(outcome)
        if mismatch:
            report.mismatches.append(outcome)
        _log_doc(logging.INFO, "created", job, name, "; ".join(inserted.messages) or None)

    def _already_there(self, job: _Job, row: dict[str, Any], report: PushReport) -> None:
        name = str(row["name"])
        docstatus = int(row.get("docstatus") or 0)
        submittable = job.doctype != CUSTOMER_DOCTYPE
        if submittable and docstatus == 2:
            self._quarantine(
                job, f"{job.doctype} {name} with this offline id is cancelled in ERPNext", report
            )
            return
        if submittable and docstatus == 0:
            # A draft someone left (FACTS §2.4): submit it rather than create a second one.
            self.client.submit(job.doctype, name)
            _log_doc(logging.WARNING, "submitted a draft found in ERPNext", job, name)
        self._done(job, name, None)
        report.found.append(Outcome(job.doctype, job.offline_id, "found", name))
        _log_doc(logging.INFO, "already in ERPNext", job, name)

    def _on_error(self, job: _Job, exc: ERPNextError, report: PushReport) -> None:
        if exc.kind is ErrorKind.STOP:
            raise _StopError(exc)
        if exc.kind is ErrorKind.QUARANTINE:
            self._quarantine(job, exc.message, report)
            return
        if exc.status is not None and exc.status >= 500 and exc.exc_type:
            # ERPNext answered with a Python exception for this document: it is up, the
            # document is the problem. Back off this one only; quarantine when it persists.
            if job.attempts >= self.max_server_errors:
                self._quarantine(job, f"{exc.exc_type}: {exc.message}", report)
            else:
                self._retry(job, str(exc), report, link_trouble=False)
            return
        self._retry(job, str(exc), report, link_trouble=True)

    # -- outcomes (each its own short transaction) ---------------------------------------------
    def _entry(self, session: Session, job: _Job) -> OutboxEntry:
        entry = session.get(OutboxEntry, job.id)
        if entry is None:
            raise RuntimeError(f"outbox entry {job.id} vanished")
        return entry

    def _done(self, job: _Job, name: str, mismatch: str | None) -> None:
        with unit_of_work(self._write) as uow:
            entry = self._entry(uow.session, job)
            outbox.mark_done(uow.session, entry, name)
            if mismatch:
                entry.last_error = mismatch
            uow.commit()
        if mismatch:
            _log_doc(logging.ERROR, mismatch, job, name)

    def _quarantine(self, job: _Job, message: str, report: PushReport) -> None:
        with unit_of_work(self._write) as uow:
            outbox.quarantine(uow.session, self._entry(uow.session, job), message)
            uow.commit()
        report.quarantined.append(
            Outcome(job.doctype, job.offline_id, "quarantined", None, message)
        )
        _log_doc(logging.ERROR, f"quarantined: {message}", job, None)

    def _retry(self, job: _Job, message: str, report: PushReport, *, link_trouble: bool) -> None:
        delay = self.backoff.delay(job.attempts)
        with unit_of_work(self._write) as uow:
            outbox.mark_failed(
                uow.session,
                self._entry(uow.session, job),
                message,
                datetime.now(UTC) + timedelta(seconds=delay),
            )
            uow.commit()
        report.retrying.append(Outcome(job.doctype, job.offline_id, "retry", None, message))
        if link_trouble:
            report.retry_after = delay
        _log_doc(logging.WARNING, f"will retry in {delay:.1f} s: {message}", job, None)

    def _fail_all(self, jobs: Sequence[_Job], exc: ERPNextError, report: PushReport) -> float:
        delay = self.backoff.delay(max((j.attempts for j in jobs), default=1))
        retry_at = datetime.now(UTC) + timedelta(seconds=delay)
        with unit_of_work(self._write) as uow:
            for job in jobs:
                outbox.mark_failed(uow.session, self._entry(uow.session, job), str(exc), retry_at)
                report.retrying.append(
                    Outcome(job.doctype, job.offline_id, "retry", None, str(exc))
                )
            uow.commit()
        log.warning("ERPNext unreachable or unwell, retrying in %.1f s: %s", delay, exc)
        return delay

    def _release(self, jobs: Iterable[_Job], message: str | None) -> None:
        """Back to READY as they were (no back-off): nothing was learned about them."""
        with unit_of_work(self._write) as uow:
            for job in jobs:
                entry = self._entry(uow.session, job)
                if entry.state is OutboxState.IN_FLIGHT:
                    entry.state = OutboxState.READY
                    if message:
                        entry.last_error = message
            uow.commit()

    # -- asking ERPNext by offline id ----------------------------------------------------------
    def _fields(self, doctype: str) -> list[str]:
        fields = ["name", OFFLINE_ID_FIELD, "docstatus"]
        return fields

    def _lookup_many(self, jobs: Sequence[_Job]) -> dict[tuple[str, str], dict[str, Any]]:
        by_doctype: dict[str, list[str]] = {}
        for job in jobs:
            by_doctype.setdefault(job.doctype, []).append(job.offline_id)
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for doctype, ids in by_doctype.items():
            for start in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[start : start + LOOKUP_CHUNK]
                try:
                    rows = self.client.get_list(
                        doctype,
                        fields=self._fields(doctype),
                        filters=[[OFFLINE_ID_FIELD, "in", chunk]],
                        limit_page_length=0,
                    )
                except ERPNextError as exc:
                    if exc.kind is not ErrorKind.RETRY:
                        raise _StopError(exc) from None
                    raise
                for row in rows:
                    found[(doctype, str(row.get(OFFLINE_ID_FIELD)))] = row
        return found

    def _lookup_one(self, job: _Job) -> dict[str, Any] | None:
        rows = self.client.get_list(
            job.doctype,
            fields=self._fields(job.doctype),
            filters=[[OFFLINE_ID_FIELD, "=", job.offline_id]],
            limit_page_length=0,
        )
        return rows[0] if rows else None

    def erpnext_user(self) -> str:
        if self._user is None:
            self._user = self.client.logged_user()
        return self._user

    # -- the body to send ----------------------------------------------------------------------
    def _prepare(self, job: _Job) -> dict[str, Any]:
        body = dict(job.payload)
        body[OFFLINE_ID_FIELD] = job.offline_id
        with self._read() as session:
            try:
                if job.doctype == OPENING_DOCTYPE:
                    # POS Closing Entry requires invoice.owner == closing.user (FACTS §3.4,
                    # §5.6): opening and closing carry the integration user the agent posts as.
                    body["user"] = self.erpnext_user()
                elif job.doctype in SALE_DOCTYPES:
                    self._prepare_sale(session, body)
                elif job.doctype == CLOSING_DOCTYPE:
                    body["user"] = self.erpnext_user()
                    self._prepare_closing(session, job, body)
            finally:
                session.rollback()
        return {
            k: v for k, v in body.items() if not k.startswith("offline_") or k == OFFLINE_ID_FIELD
        }

    def _name_of(self, session: Session, doctype: str | None, offline_id: str, what: str) -> str:
        entry = (
            outbox.find_entry(session, doctype, offline_id)
            if doctype
            else outbox.find_by_offline_id(session, offline_id)
        )
        if entry is None:
            raise _NotReadyError(f"{what} {offline_id} is not in the outbox", permanent=True)
        if entry.state is not OutboxState.DONE or not entry.erpnext_name:
            raise _NotReadyError(f"waiting for {what} {offline_id} ({entry.state.value})")
        return entry.erpnext_name

    def _customer_name(self, session: Session, customer: str) -> str:
        created_here = outbox.find_entry(session, CUSTOMER_DOCTYPE, customer)
        if created_here is None:
            return customer  # a customer pulled from ERPNext: its name is ERPNext's
        return self._name_of(session, CUSTOMER_DOCTYPE, customer, "customer")

    def _prepare_sale(self, session: Session, body: dict[str, Any]) -> None:
        if body.get("customer"):
            body["customer"] = self._customer_name(session, str(body["customer"]))
        original = body.pop(RETURN_AGAINST_OFFLINE_FIELD, None)
        if original:
            body["return_against"] = self._name_of(session, None, str(original), "original sale")

    def _prepare_closing(self, session: Session, job: _Job, body: dict[str, Any]) -> None:
        opening = body.pop(OPENING_OFFLINE_FIELD, None)
        if not opening:
            raise _NotReadyError("the closing entry names no opening entry", permanent=True)
        body["pos_opening_entry"] = self._name_of(
            session, OPENING_DOCTYPE, str(opening), "opening entry"
        )
        entry = session.get(OutboxEntry, job.id)
        assert entry is not None
        sales = sorted(
            (d for d in entry.depends_on if d.doctype in SALE_DOCTYPES), key=lambda d: d.id
        )
        rows = []
        for dep in sales:
            name = self._name_of(session, dep.doctype, dep.offline_id, "sale")
            sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == dep.offline_id))
            if sale is None:
                raise _NotReadyError(f"sale {dep.offline_id} is not in the store", permanent=True)
            rows.append(
                {
                    "pos_invoice": name,
                    "posting_date": sale.posting_date.isoformat(),
                    "customer": self._customer_name(session, sale.customer),
                    "grand_total": float(sale.grand_total),
                    "is_return": int(sale.is_return),
                }
            )
        body["pos_transactions"] = rows

    # -- after insert --------------------------------------------------------------------------
    def _compare_totals(self, job: _Job, doc: Mapping[str, Any]) -> str | None:
        with self._read() as session:
            try:
                sale = session.scalar(
                    select(PosInvoice).where(PosInvoice.offline_id == job.offline_id)
                )
                if sale is None:
                    return None
                ours: dict[str, Decimal] = {k: getattr(sale, k) for k in COMPARED_TOTALS}
                for tax in sale.taxes:
                    ours[f"taxes[{tax.idx}] {tax.account_head}"] = (
                        tax.tax_amount_after_discount_amount
                    )
            finally:
                session.rollback()
        theirs: dict[str, Any] = {k: doc.get(k) for k in COMPARED_TOTALS}
        for n, tax in enumerate(doc.get("taxes") or [], 1):
            theirs[f"taxes[{n}] {tax.get('account_head')}"] = tax.get(
                "tax_amount_after_discount_amount", tax.get("tax_amount")
            )
        diffs = []
        for key in sorted(set(ours) | set(theirs)):
            a, b = ours.get(key), theirs.get(key)
            if a is None or b is None:
                diffs.append(f"{key}: ours {a}, ERPNext {b}")
                continue
            if abs(Decimal(str(a)) - Decimal(str(b))) > TOLERANCE:
                diffs.append(f"{key}: ours {a}, ERPNext {b}")
        if not diffs:
            return None
        return f"{MISMATCH_PREFIX} for {doc.get('name')}: " + "; ".join(diffs)


def _log_doc(
    level: int, message: str, job: _Job, name: str | None, note: str | None = None
) -> None:
    text = f"{job.doctype} {job.offline_id}: {message}"
    if name:
        text += f" ({name})"
    if note:
        text += f" [{note}]"
    extra = {"OFFLINE_ID": job.offline_id, "DOCTYPE": job.doctype}
    if name:
        extra["ERPNEXT_NAME"] = name
    log.log(level, text, extra=extra)

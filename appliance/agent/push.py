"""Exactly-once push of the outbox to ERPNext.

One cycle takes batches of sendable entries (READY, every dependency DONE), so the order is the
dependency order: opening entry -> customers created offline -> sales -> returns -> closing
entry. For each batch:

1. mark the entries IN_FLIGHT (one short transaction; a crash leaves them IN_FLIGHT and
   :meth:`Pusher.recover` puts them back to READY at the next start);
2. ask ERPNext which offline ids it already has, one filtered list per doctype
   (``filters=[["offline_id","in",[...]]]``; a sale on ERPNext 16 in both POS Invoice and Sales
   Invoice): those are marked DONE with ERPNext's name, never sent again; a draft left by
   someone is submitted, a cancelled one is quarantined;
3. send the rest, with ERPNext names substituted for offline references (the customer created
   offline, ``return_against``, ``pos_opening_entry``, the closing's invoice rows), mapped to
   what the server's version and POS Settings expect (:mod:`appliance.agent.server_mode`);
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

Steps 2-4 are :class:`DocumentSender`, which settles outcomes in a
:class:`~appliance.agent.ledger.Ledger`: :class:`Pusher` drives it from the outbox, and the USB
bundle import (:mod:`appliance.transfer.importer`) drives the very same code from a bundle.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from appliance.agent import server_mode
from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.agent.ledger import COMPARED_TOTALS, Job, Ledger, NotReadyError, References
from appliance.agent.outbox_ledger import OutboxLedger, journal_outcome
from appliance.agent.rollover import CLOSED_FIELD, Rollover, RolloverError
from appliance.agent.server_mode import ServerMode
from appliance.agent.shift_notices import refusal_rule
from appliance.agent.shifts import ShiftWatch
from appliance.sales.payload import JOURNAL_FIELD, OFFLINE_ID_FIELD, RETURN_AGAINST_OFFLINE_FIELD
from appliance.store import outbox
from appliance.store.db import unit_of_work
from appliance.store.journal import JournalKind
from appliance.store.sales import (
    CLOSING_DOCTYPE,
    CUSTOMER_DOCTYPE,
    OPENING_DOCTYPE,
    POS_INVOICE,
    SALE_DOCTYPES,
    journaled_fingerprint_matches,
)

log = logging.getLogger(__name__)

OPENING_OFFLINE_FIELD = "offline_pos_opening_entry"
MISMATCH_PREFIX = "TOTALS MISMATCH"
TAMPERED = (
    "not sent: the outbox copy differs from the sale as it was journaled at commit "
    "(edited in the store after the sale); compare with `appliance db check`"
)
LOOKUP_CHUNK = 100
# Totals are compared to half a cent: ERPNext answers floats, we keep Decimals.
TOLERANCE = Decimal("0.005")


def rank(doctype: str, payload: Mapping[str, Any]) -> int:
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


class StopError(Exception):
    """ERPNext refuses to work with us at all (auth, TLS, setup): nothing more can be sent."""

    def __init__(self, error: ERPNextError) -> None:
        super().__init__(str(error))
        self.error = error


class DocumentSender:
    """The per-document work, shared by the agent's outbox push and the USB bundle import:
    look a batch up by offline id, build each body with ERPNext's names for its references,
    insert it, and settle the answer in the :class:`Ledger` the documents came from."""

    def __init__(
        self,
        client: ERPNextClient,
        ledger: Ledger,
        *,
        backoff: Backoff | None = None,
        max_server_errors: int = 8,
        erpnext_user: str | None = None,
        site_now: Callable[[], datetime] = datetime.now,
        payment_account: server_mode.PaymentAccount = lambda mode_of_payment, company: None,
        shift_watch: ShiftWatch | None = None,
    ) -> None:
        self.client = client
        # Told what ERPNext did with openings and closings (the agent's; not the USB import's).
        self.shift_watch = shift_watch
        self.ledger = ledger
        self.backoff = backoff or Backoff()
        # A 500 carrying a Python exception is ERPNext failing on this document (e.g. the
        # TypeError for an unknown customer): after this many tries it is quarantined.
        self.max_server_errors = max_server_errors
        self._user = erpnext_user
        # Naive wall time in the site's time zone: ERPNext 16 dates openings by it.
        self.site_now = site_now
        # A mode of payment's account for the company, when the till's payload lacks it.
        self.payment_account = payment_account
        self.mode: ServerMode | None = None  # asked once per cycle, again after a 417 about it
        self.rollover = Rollover(client, self.erpnext_user, self.site_now)
        if shift_watch is not None:  # a midnight rollover's interim closing is followed too
            self.rollover.on_closing = shift_watch.closing_answered

    def current_mode(self) -> ServerMode:
        if self.mode is None:
            try:
                self.mode = server_mode.detect(self.client)
            except ERPNextError as exc:
                if exc.kind is not ErrorKind.RETRY:
                    raise StopError(exc) from None
                raise
            log.info("%s", self.mode.describe())
            self.ledger.server_version(self.mode.major)
        return self.mode

    # -- a batch -------------------------------------------------------------------------------
    def send_batch(self, jobs: list[Job], report: PushReport) -> None:
        """Settle every job of the batch in the ledger, in order (dependencies first).

        Raises :class:`StopError` when ERPNext refuses to work with us; the jobs not settled
        then are released untouched. When the link fails, ``report.retry_after`` is set and the
        rest of the batch is released for a later try.
        """
        try:
            self.current_mode()
            existing = self._lookup_many(jobs)
        except StopError as stop:
            self.ledger.release(jobs, stop.error.message)
            raise
        except ERPNextError as exc:  # the batch lookup failed: the link is unwell
            report.retry_after = self._fail_all(jobs, exc, report)
            return
        for n, job in enumerate(jobs):
            try:
                self._run_job(job, existing.get((job.doctype, job.offline_id)), report)
            except StopError as stop:
                self.ledger.release(jobs[n:], stop.error.message)
                raise
            if report.retry_after is not None:
                # The link failed mid-batch: the rest go back untouched, for the next cycle.
                self.ledger.release(jobs[n + 1 :], None)
                return

    def _run_job(self, job: Job, row: dict[str, Any] | None, report: PushReport) -> None:
        try:
            if row is not None:
                self._already_there(job, row, report)
                return
            try:
                self._prepare_and_send(job, report)
            except ERPNextError as exc:
                if not self._recovered(job, exc):
                    raise
                self._prepare_and_send(job, report)
        except ERPNextError as exc:
            self._on_error(job, exc, report)

    def _recovered(self, job: Job, exc: ERPNextError) -> bool:
        """Whether what ``exc`` says was put right, so the job is worth sending once more."""
        if server_mode.is_wrong_doctype(exc):
            # POS Settings changed since this cycle began: read it again.
            previous, self.mode = self.mode, None
            return self.current_mode() != previous
        if job.doctype not in SALE_DOCTYPES:
            return False
        try:
            return self.rollover.handle(exc, job.payload, self.current_mode())
        except RolloverError as refused:
            raise ERPNextError(ErrorKind.QUARANTINE, str(refused), exc.status) from None

    def _prepare_and_send(self, job: Job, report: PushReport) -> None:
        try:
            doctype, body = self._prepare(job)
        except NotReadyError as exc:
            if exc.permanent:
                self._quarantine(job, str(exc), report)
            else:
                self._retry(job, str(exc), report, link_trouble=False)
            return
        self._send(job, body, report, doctype)

    def _send(
        self, job: Job, body: dict[str, Any], report: PushReport, doctype: str | None = None
    ) -> None:
        try:
            inserted = self.client.insert(doctype or job.doctype, body)
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
        self._shift_answered(job, name, doc)
        mismatch = self._compare_totals(job, doc) if job.doctype in SALE_DOCTYPES else None
        self._done(job, name, mismatch)
        outcome = Outcome(job.doctype, job.offline_id, "created", name, mismatch)
        report.created.append(outcome)
        if mismatch:
            report.mismatches.append(outcome)
        _log_doc(logging.INFO, "created", job, name, "; ".join(inserted.messages) or None)

    def _already_there(self, job: Job, row: dict[str, Any], report: PushReport) -> None:
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
            row = self.client.submit(str(row.get("doctype") or job.doctype), name)
            _log_doc(logging.WARNING, "submitted a draft found in ERPNext", job, name)
        self._shift_answered(job, name, row)
        self._done(job, name, None)
        report.found.append(Outcome(job.doctype, job.offline_id, "found", name))
        _log_doc(logging.INFO, "already in ERPNext", job, name)

    def _shift_answered(self, job: Job, name: str, doc: Mapping[str, Any]) -> None:
        """ERPNext holds this opening or closing now: tell the watch (which follows a queued
        closing to its end, and forgets a refusal)."""
        if self.shift_watch is None:
            return
        if job.doctype == CLOSING_DOCTYPE:
            self.shift_watch.closing_answered(job.offline_id, name, doc)
        if job.doctype in (OPENING_DOCTYPE, CLOSING_DOCTYPE):
            self.shift_watch.document_accepted(job)

    def _on_error(self, job: Job, exc: ERPNextError, report: PushReport) -> None:
        if exc.kind is ErrorKind.STOP:
            raise StopError(exc)
        rule = refusal_rule(exc.message) if exc.status == 417 else None
        if rule is not None and job.doctype in (OPENING_DOCTYPE, CLOSING_DOCTYPE, *SALE_DOCTYPES):
            # ERPNext 16's one open shift per POS Profile and per user: another till's shift
            # (or this till's last one, still being consolidated) holds it; or a closing to
            # queue while ERPNext's scheduler is off. That may end by itself, so the document
            # is retried, never quarantined; the till and IT are told. A sale meets it when its
            # midnight rollover's fresh opening (or interim closing) is refused: the rollover
            # is resumed by the retry.
            if self.shift_watch is not None and job.doctype in (OPENING_DOCTYPE, CLOSING_DOCTYPE):
                self.shift_watch.document_refused(job, rule, exc.message, self._opening_body(job))
            self._retry(job, exc.message, report, link_trouble=False)
            return
        if exc.kind is ErrorKind.QUARANTINE:
            self._quarantine(job, exc.message, report)
            return
        if exc.status is not None and exc.status >= 500 and exc.exc_type:
            # ERPNext answered with a Python exception for this document: it is up, the
            # document is the problem. Back off this one only; quarantine when it persists
            # (``attempts`` counts ERPNext's earlier answers; this is one more).
            if job.attempts + 1 >= self.max_server_errors:
                self._quarantine(job, f"{exc.exc_type}: {exc.message}", report)
            else:
                self._retry(job, str(exc), report, link_trouble=False)
            return
        self._retry(job, str(exc), report, link_trouble=True)

    # -- outcomes (each settled in the ledger at once) -----------------------------------------
    def _done(self, job: Job, name: str, mismatch: str | None) -> None:
        self.ledger.done(job, name, mismatch)
        if mismatch:
            _log_doc(logging.ERROR, mismatch, job, name)

    def _quarantine(self, job: Job, message: str, report: PushReport) -> None:
        self.ledger.quarantine(job, message)
        report.quarantined.append(
            Outcome(job.doctype, job.offline_id, "quarantined", None, message)
        )
        _log_doc(logging.ERROR, f"quarantined: {message}", job, None)

    def _retry(self, job: Job, message: str, report: PushReport, *, link_trouble: bool) -> None:
        delay = self.backoff.delay(job.attempts + 1)
        retry_at = datetime.now(UTC) + timedelta(seconds=delay)
        self.ledger.retry([job], message, retry_at, answered=not link_trouble)
        report.retrying.append(Outcome(job.doctype, job.offline_id, "retry", None, message))
        if link_trouble:
            report.retry_after = delay
        _log_doc(logging.WARNING, f"will retry in {delay:.1f} s: {message}", job, None)

    def _fail_all(self, jobs: Sequence[Job], exc: ERPNextError, report: PushReport) -> float:
        delay = self.backoff.delay(max((j.attempts for j in jobs), default=1))
        self.ledger.retry(jobs, str(exc), datetime.now(UTC) + timedelta(seconds=delay))
        for job in jobs:
            report.retrying.append(Outcome(job.doctype, job.offline_id, "retry", None, str(exc)))
        log.warning("ERPNext unreachable or unwell, retrying in %.1f s: %s", delay, exc)
        return delay

    # -- asking ERPNext by offline id ----------------------------------------------------------
    def _opening_body(self, job: Job) -> dict[str, Any]:
        return {"pos_profile": job.payload.get("pos_profile"), "user": self.erpnext_user()}

    @staticmethod
    def _fields(doctype: str, closed: bool = False) -> list[str]:
        fields = ["name", OFFLINE_ID_FIELD, "docstatus"]
        if doctype == CLOSING_DOCTYPE:
            fields += ["status", "error_message"]  # a queued closing is followed to its end
        if closed and doctype in CLOSED_FIELD:
            fields.append(CLOSED_FIELD[doctype])
        return fields

    def _searched(self, doctype: str) -> tuple[str, ...]:
        """The ERPNext doctypes a document queued as ``doctype`` may be in."""
        if doctype in SALE_DOCTYPES:
            return self.current_mode().sale_doctypes
        return (doctype,)

    def _lookup_many(self, jobs: Sequence[Job]) -> dict[tuple[str, str], dict[str, Any]]:
        """(queued doctype, offline id) -> ERPNext's row, its ``doctype`` added."""
        by_doctype: dict[str, list[str]] = {}
        for job in jobs:
            by_doctype.setdefault(job.doctype, []).append(job.offline_id)
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for queued, ids in by_doctype.items():
            try:
                where = self._find(queued, ids)
            except ERPNextError as exc:
                if exc.kind is not ErrorKind.RETRY:
                    raise StopError(exc) from None
                raise
            for offline_id, row in where.items():
                found[(queued, offline_id)] = row
        return found

    def _find(
        self, queued: str, offline_ids: Sequence[str], *, closed: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Offline id -> ERPNext's row (``closed``: with the field set once a closing took it)."""
        found: dict[str, dict[str, Any]] = {}
        for doctype in self._searched(queued):
            for start in range(0, len(offline_ids), LOOKUP_CHUNK):
                chunk = list(offline_ids[start : start + LOOKUP_CHUNK])
                test = ["in", chunk] if len(chunk) > 1 else ["=", chunk[0]]
                rows = self.client.get_list(
                    doctype,
                    fields=self._fields(doctype, closed),
                    filters=[[OFFLINE_ID_FIELD, *test]],
                    limit_page_length=0,
                )
                for row in rows:
                    found.setdefault(str(row.get(OFFLINE_ID_FIELD)), {**row, "doctype": doctype})
        return found

    def _lookup_one(self, job: Job) -> dict[str, Any] | None:
        return self._find(job.doctype, [job.offline_id]).get(job.offline_id)

    def erpnext_user(self) -> str:
        if self._user is None:
            self._user = self.client.logged_user()
        return self._user

    # -- the body to send ----------------------------------------------------------------------
    def _prepare(self, job: Job) -> tuple[str, dict[str, Any]]:
        """The doctype to post to and the body, ERPNext's names in place of offline ones."""
        mode = self.current_mode()
        doctype = job.doctype
        body = dict(job.payload)
        body[OFFLINE_ID_FIELD] = job.offline_id
        if job.doctype in (OPENING_DOCTYPE, CLOSING_DOCTYPE):
            # POS Closing Entry requires invoice.owner == closing.user (FACTS §3.4, §5.6):
            # opening and closing carry the integration user the agent posts as.
            body["user"] = self.erpnext_user()
        sales: list[tuple[str, dict[str, Any]]] = []
        with self.ledger.references() as refs:
            if job.doctype in SALE_DOCTYPES:
                self._prepare_sale(refs, body)
            elif job.doctype == CLOSING_DOCTYPE:
                sales = self._prepare_closing(refs, job, body)
        # ERPNext 16's differences need questions to ERPNext: asked outside the store read.
        if job.doctype in SALE_DOCTYPES:
            doctype = self._sale_doctype(body)
            server_mode.sale_body(body, doctype, self.payment_account)
        elif job.doctype == OPENING_DOCTYPE and mode.v16:
            server_mode.opening_body(body, self.site_now())
        elif job.doctype == CLOSING_DOCTYPE:
            rows = self._closing_rows(sales)
            if mode.v16:
                shift = str(job.payload.get(OPENING_OFFLINE_FIELD) or "")
                rows = self.rollover.final_closing(body, shift, rows)
            body.update(server_mode.closing_tables(rows, mode))
            if mode.v16:
                opening = self.client.get_doc(OPENING_DOCTYPE, str(body["pos_opening_entry"]))
                start = str((opening or {}).get("period_start_date") or "")
                server_mode.closing_period(body, start)
        body = {
            k: v for k, v in body.items() if not k.startswith("offline_") or k == OFFLINE_ID_FIELD
        }
        return doctype, body

    @staticmethod
    def _customer_name(refs: References, customer: str) -> str:
        if not refs.created_offline(CUSTOMER_DOCTYPE, customer):
            return customer  # a customer pulled from ERPNext: its name is ERPNext's
        return refs.name_of(CUSTOMER_DOCTYPE, customer, "customer")

    def _prepare_sale(self, refs: References, body: dict[str, Any]) -> None:
        anchor = refs.journal_anchor(str(body[OFFLINE_ID_FIELD]))
        if anchor:
            body[JOURNAL_FIELD] = anchor
        if body.get("customer"):
            body["customer"] = self._customer_name(refs, str(body["customer"]))
        original = body.get(RETURN_AGAINST_OFFLINE_FIELD)
        if original:
            body["return_against"] = refs.name_of(None, str(original), "original sale")

    def _sale_doctype(self, body: dict[str, Any]) -> str:
        """A sale goes where POS Settings says; a return goes where its original is (both are
        exempt from the mode check on 16, and ``return_against`` links within one doctype)."""
        mode = self.current_mode()
        original = body.get(RETURN_AGAINST_OFFLINE_FIELD)
        if not original:
            return mode.sale_doctype
        if not mode.v16:
            # Each row names the row it returns, so ERPNext's own check against returning more
            # than was sold (validate_returned_items) runs on 15 as on 16.
            name = str(body["return_against"])
            doc = self.client.get_doc(POS_INVOICE, name) or {}
            server_mode.link_return_items(body, POS_INVOICE, doc)
            return mode.sale_doctype
        row = self._find(POS_INVOICE, [str(original)]).get(str(original))
        if row is None:
            raise NotReadyError(f"original sale {original} is not in ERPNext (yet)")
        doctype = str(row["doctype"])
        body["return_against"] = row["name"]
        server_mode.link_return_items(
            body, doctype, self.client.get_doc(doctype, str(row["name"])) or {}
        )
        return doctype

    def _prepare_closing(
        self, refs: References, job: Job, body: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        """The closing's sales as (offline id, row): rows carry ERPNext's names."""
        opening = body.pop(OPENING_OFFLINE_FIELD, None)
        if not opening:
            raise NotReadyError("the closing entry names no opening entry", permanent=True)
        body["pos_opening_entry"] = refs.name_of(OPENING_DOCTYPE, str(opening), "opening entry")
        return [
            (
                sale.offline_id,
                {
                    "invoice": refs.name_of(sale.doctype, sale.offline_id, "sale"),
                    "posting_date": sale.posting_date,
                    "customer": self._customer_name(refs, sale.customer),
                    "grand_total": float(sale.grand_total),
                    "is_return": sale.is_return,
                },
            )
            for sale in refs.closing_sales(job)
        ]

    def _closing_rows(
        self, sales: list[tuple[str, dict[str, Any]]]
    ) -> list[tuple[str, dict[str, Any]]]:
        """Each sale's row with the doctype it has in ERPNext (on 16: asked, by offline id)."""
        if not self.current_mode().v16:
            return [(POS_INVOICE, row) for _, row in sales]
        where = self._find(POS_INVOICE, [offline_id for offline_id, _ in sales], closed=True)
        out = []
        for offline_id, row in sales:
            found = where.get(offline_id)
            if found is None:
                raise NotReadyError(f"sale {offline_id} is not in ERPNext (yet)")
            doctype = str(found["doctype"])
            # ``closed``: an interim closing (appliance.agent.rollover) took it already.
            closed = bool(found.get(CLOSED_FIELD[doctype]))
            out.append((doctype, {**row, "invoice": found["name"], "closed": closed}))
        return out

    # -- after insert --------------------------------------------------------------------------
    def _compare_totals(self, job: Job, doc: Mapping[str, Any]) -> str | None:
        ours = self.ledger.our_totals(job)
        if ours is None:
            return None
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


class Pusher(DocumentSender):
    """The agent's push: the terminal's outbox, in batches of sendable entries."""

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
        # The batch's DONE marks are committed together at its end (OutboxLedger.flush).
        self._outbox = OutboxLedger(read, write, group_done=True)
        super().__init__(
            client,
            self._outbox,
            backoff=backoff,
            max_server_errors=max_server_errors,
            erpnext_user=erpnext_user,
            site_now=server_mode.store_site_now(read),
            payment_account=server_mode.store_payment_account(read),
            shift_watch=ShiftWatch(read, write),
        )
        self._write = write
        self.batch_size = batch_size

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
        self.mode = None  # version and POS Settings: asked again at the first batch
        while max_batches is None or batches < max_batches:
            jobs, tampered = self._claim()
            report.quarantined += tampered
            if not jobs:
                break
            batches += 1
            try:
                self.send_batch(jobs, report)
            except StopError as stop:
                report.stopped = stop.error.message
                log.error("push stopped: %s", stop.error)
                break
            finally:
                self._outbox.flush()
            if report.retry_after is not None:
                break
            if on_batch is not None and not on_batch(report):
                break
        return report

    def follow_shift(self) -> None:
        """Once per cycle: read again each closing ERPNext is still consolidating (or failed
        to); a refusal other than link trouble is logged, not raised: pushing goes on."""
        if self.shift_watch is None:
            return
        try:
            self.shift_watch.follow(self.client)
        except ERPNextError as exc:
            log.error("could not follow the shift's closing in ERPNext: %s", exc)

    def _claim(self) -> tuple[list[Job], list[Outcome]]:
        """The next batch to send, and the entries set aside as tampered with."""
        tampered: list[Outcome] = []
        with unit_of_work(self._write) as uow:
            entries = outbox.sendable(uow.session, self.batch_size)
            jobs = []
            for entry in entries:
                if entry.doctype in SALE_DOCTYPES and not journaled_fingerprint_matches(
                    uow.session, entry.offline_id, entry.payload
                ):
                    # Someone edited the copy to send after the sale was committed (a cash
                    # sale made a card sale): it goes nowhere until a person looks.
                    outbox.quarantine(uow.session, entry, TAMPERED)
                    job = Job(entry.id, entry.doctype, entry.offline_id, {}, entry.attempts)
                    journal_outcome(uow.session, JournalKind.SYNC_QUARANTINE, job, TAMPERED)
                    _log_doc(logging.ERROR, TAMPERED, job, None)
                    tampered.append(
                        Outcome(job.doctype, job.offline_id, "quarantined", None, TAMPERED)
                    )
                    continue
                outbox.mark_in_flight(uow.session, entry)
                jobs.append(
                    Job(
                        entry.id,
                        entry.doctype,
                        entry.offline_id,
                        json.loads(entry.payload),
                        entry.attempts,
                    )
                )
            uow.commit()
        jobs.sort(key=lambda j: (rank(j.doctype, j.payload), j.id))
        return jobs, tampered


def _log_doc(level: int, message: str, job: Job, name: str | None, note: str | None = None) -> None:
    text = f"{job.doctype} {job.offline_id}: {message}"
    if name:
        text += f" ({name})"
    if note:
        text += f" [{note}]"
    extra = {"OFFLINE_ID": job.offline_id, "DOCTYPE": job.doctype}
    if name:
        extra["ERPNEXT_NAME"] = name
    log.log(level, text, extra=extra)

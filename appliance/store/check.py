"""``appliance db check``: SQLite's own checks plus the invariants the till relies on.

Money columns are exact text, so every sum is done in Python with ``Decimal``, never in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, inspect, not_, or_, select, text
from sqlalchemy.orm import Session, aliased

from appliance.store import jsonutil
from appliance.store.migrate import current_revision, head_revision
from appliance.store.models import (
    JournalEntry,
    OutboxDependency,
    OutboxEntry,
    OutboxState,
    PosInvoice,
    PosInvoiceItem,
    PosInvoicePayment,
    PosOpeningEntry,
)
from appliance.store.sales import OPENING_DOCTYPE, SALE_DOCTYPES, fingerprint_matches

SALE_KINDS = ("sale", "return")
_LIMIT = 100  # problems reported per check; one bad pattern must not bury the others


@dataclass(frozen=True)
class Problem:
    check: str  # a stable name, e.g. "sale_without_items"
    message: str
    ref: str | None = None  # the offline id / row concerned

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "message": self.message, "ref": self.ref}


def check_database(session: Session) -> list[Problem]:
    problems = _sqlite_checks(session)
    schema = _schema_check(session)
    if schema:
        # Without the tables the invariants cannot even be asked.
        return problems + schema
    for check in (
        _sale_structure,
        _orphans,
        _sale_money,
        _sale_fingerprints,
        _sale_journal_totals,
        _outbox_fingerprints,
        _shift_structure,
        _outbox,
    ):
        problems += check(session)
    return problems


def _sqlite_checks(session: Session) -> list[Problem]:
    problems: list[Problem] = []
    rows = [r[0] for r in session.execute(text("PRAGMA integrity_check")).all()]
    if rows != ["ok"]:
        problems += [Problem("integrity_check", str(r)) for r in rows[:_LIMIT]]
    for table, rowid, parent, _fkid in session.execute(text("PRAGMA foreign_key_check")).all():
        problems.append(
            Problem("foreign_key_check", f"{table} row {rowid} points to a missing {parent} row")
        )
    return problems


def _schema_check(session: Session) -> list[Problem]:
    connection = session.connection()
    if not inspect(connection).has_table("alembic_version"):
        return [Problem("schema", "database is not migrated; run `appliance db migrate`")]
    current, head = current_revision(connection), head_revision()
    if current != head:
        return [
            Problem(
                "schema", f"schema is at {current}, expected {head}; run `appliance db migrate`"
            )
        ]
    return []


def _sale_structure(session: Session) -> list[Problem]:
    out: list[Problem] = []
    sale = PosInvoice
    original = aliased(PosInvoice)

    def report(check: str, message: str, condition: Any) -> None:
        stmt = select(sale.offline_id).where(condition).order_by(sale.id).limit(_LIMIT)
        out.extend(Problem(check, message, ref) for ref in session.scalars(stmt))

    report(
        "sale_without_items",
        "sale has no item rows",
        ~exists().where(PosInvoiceItem.invoice_id == sale.id),
    )
    report(
        "sale_without_outbox",
        "sale has no outbox entry",
        ~exists().where(
            OutboxEntry.offline_id == sale.offline_id, OutboxEntry.doctype.in_(SALE_DOCTYPES)
        ),
    )
    report(
        "sale_without_journal",
        "sale has no journal entry",
        ~exists().where(JournalEntry.ref == sale.offline_id, JournalEntry.kind.in_(SALE_KINDS)),
    )
    report(
        "sale_without_shift",
        "sale belongs to no existing shift",
        ~exists().where(PosOpeningEntry.id == sale.shift_id),
    )
    report(
        "return_without_original",
        "return does not reference an existing sale",
        and_(
            sale.is_return,
            or_(
                sale.return_against_id.is_(None),
                ~exists().where(original.id == sale.return_against_id),
            ),
        ),
    )
    report(
        "sale_with_return_against",
        "a sale that is not a return references an original",
        and_(not_(sale.is_return), sale.return_against_id.is_not(None)),
    )
    return out


def _orphans(session: Session) -> list[Problem]:
    """The other half of atomicity: nothing queued or journalled for a sale that is not there."""
    queued = (
        select(OutboxEntry.offline_id)
        .where(
            OutboxEntry.doctype.in_(SALE_DOCTYPES),
            ~exists().where(PosInvoice.offline_id == OutboxEntry.offline_id),
        )
        .limit(_LIMIT)
    )
    journalled = (
        select(JournalEntry.ref)
        .where(
            JournalEntry.kind.in_(SALE_KINDS),
            ~exists().where(PosInvoice.offline_id == JournalEntry.ref),
        )
        .limit(_LIMIT)
    )
    return [
        *(
            Problem("outbox_without_sale", "outbox entry for a sale that does not exist", ref)
            for ref in session.scalars(queued)
        ),
        *(
            Problem("journal_without_sale", "journal records a sale that does not exist", ref)
            for ref in session.scalars(journalled)
        ),
    ]


def _sums(session: Session, column: Any, parent: Any) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for parent_id, amount in session.execute(select(parent, column)):
        totals[parent_id] += amount
    return totals


def _sale_money(session: Session) -> list[Problem]:
    out: list[Problem] = []
    amounts = _sums(session, PosInvoiceItem.amount, PosInvoiceItem.invoice_id)
    payments = _sums(session, PosInvoicePayment.amount, PosInvoicePayment.invoice_id)
    rows = session.execute(
        select(PosInvoice.id, PosInvoice.offline_id, PosInvoice.total, PosInvoice.paid_amount)
    )
    for sale_id, offline_id, total, paid in rows:
        paid_sum = payments.get(sale_id, Decimal(0))
        if paid_sum != paid:
            out.append(
                Problem(
                    "payments_sum",
                    f"payments add up to {paid_sum}, paid_amount is {paid}",
                    offline_id,
                )
            )
        line_sum = amounts.get(sale_id, Decimal(0))
        if sale_id in amounts and line_sum != total:
            out.append(
                Problem(
                    "items_sum", f"line amounts add up to {line_sum}, total is {total}", offline_id
                )
            )
        if len(out) >= _LIMIT:
            break
    return out


def _sale_fingerprints(session: Session) -> list[Problem]:
    """The payload still matches the fingerprint its journal entry recorded at commit time."""
    return _fingerprints(
        session,
        PosInvoice,
        "payload_fingerprint",
        "payload differs from its journal fingerprint",
    )


def _outbox_fingerprints(session: Session) -> list[Problem]:
    """What the agent would send for a sale is what was journaled at commit time."""
    return _fingerprints(
        session,
        OutboxEntry,
        "outbox_payload_fingerprint",
        "the outbox copy differs from the sale as journaled (it is not sent)",
        OutboxEntry.doctype.in_(SALE_DOCTYPES),
    )


def _fingerprints(
    session: Session, table: Any, check: str, message: str, *where: Any
) -> list[Problem]:
    """Rows of ``table`` (a sale or its outbox copy) whose payload is not the one journaled."""
    stmt = (
        select(table.offline_id, table.payload, JournalEntry.data)
        .join(
            JournalEntry,
            and_(JournalEntry.ref == table.offline_id, JournalEntry.kind.in_(SALE_KINDS)),
        )
        .where(*where)
    )
    out: list[Problem] = []
    for offline_id, payload, data in session.execute(stmt):
        if not fingerprint_matches(payload, data):
            out.append(Problem(check, message, offline_id))
            if len(out) >= _LIMIT:
                break
    return out


# The sale's money as the journal recorded it at commit: a row edited afterwards no longer agrees.
JOURNALED_TOTALS = ("grand_total", "rounded_total", "paid_amount", "change_amount")


def _sale_journal_totals(session: Session) -> list[Problem]:
    out: list[Problem] = []
    columns = [getattr(PosInvoice, f) for f in JOURNALED_TOTALS]
    stmt = select(PosInvoice.offline_id, JournalEntry.data, *columns).join(
        JournalEntry,
        and_(JournalEntry.ref == PosInvoice.offline_id, JournalEntry.kind.in_(SALE_KINDS)),
    )
    for offline_id, data, *stored in session.execute(stmt):
        try:
            recorded = jsonutil.loads(data)
        except ValueError:
            recorded = {}
        changed = [
            f"{name} {value} (journaled {recorded.get(name)})"
            for name, value in zip(JOURNALED_TOTALS, stored, strict=True)
            if name in recorded and Decimal(str(recorded[name])) != value
        ]
        if changed:
            out.append(
                Problem(
                    "sale_totals_journal",
                    f"stored totals differ from what was journaled at commit: {', '.join(changed)}",
                    offline_id,
                )
            )
            if len(out) >= _LIMIT:
                break
    return out


def _shift_structure(session: Session) -> list[Problem]:
    stmt = (
        select(PosOpeningEntry.offline_id)
        .where(
            ~exists().where(
                OutboxEntry.offline_id == PosOpeningEntry.offline_id,
                OutboxEntry.doctype == OPENING_DOCTYPE,
            )
        )
        .limit(_LIMIT)
    )
    return [
        Problem("shift_without_outbox", "shift has no outbox entry", r)
        for r in session.scalars(stmt)
    ]


def _outbox(session: Session) -> list[Problem]:
    out: list[Problem] = []
    target = aliased(OutboxEntry)
    missing = (
        select(OutboxDependency.entry_id, OutboxDependency.depends_on_id)
        .where(~exists().where(target.id == OutboxDependency.depends_on_id))
        .limit(_LIMIT)
    )
    for entry_id, dep_id in session.execute(missing):
        out.append(
            Problem(
                "outbox_missing_dependency",
                f"outbox entry {entry_id} depends on missing {dep_id}",
                str(entry_id),
            )
        )
    done_unnamed = (
        select(OutboxEntry.offline_id)
        .where(OutboxEntry.state == OutboxState.DONE, OutboxEntry.erpnext_name.is_(None))
        .limit(_LIMIT)
    )
    out.extend(
        Problem("outbox_done_without_name", "DONE outbox entry has no ERPNext name", ref)
        for ref in session.scalars(done_unnamed)
    )
    return out

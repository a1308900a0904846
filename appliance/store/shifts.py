"""Opening and closing a shift: POS Opening / Closing Entry rows, outbox and journal together.

Like ``commit_sale``, these write in the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.store import journal, jsonutil, outbox
from appliance.store.models import (
    JournalEntry,
    OutboxEntry,
    PosClosingEntry,
    PosClosingEntryDetail,
    PosInvoice,
    PosOpeningEntry,
    PosOpeningEntryDetail,
    ShiftStatus,
)
from appliance.store.sales import CLOSING_DOCTYPE, OPENING_DOCTYPE, SaleError, require_uuid


class ShiftError(SaleError):
    """The shift cannot be opened or closed as asked."""


@dataclass(frozen=True)
class OpeningBalance:
    mode_of_payment: str
    opening_amount: Decimal


@dataclass(frozen=True)
class ShiftOpening:
    """A POS Opening Entry to record. ``period_start`` is the site's local wall time."""

    offline_id: str
    pos_profile: str
    company: str
    user: str
    period_start: datetime
    balance_details: tuple[OpeningBalance, ...]
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        require_uuid(self.offline_id, "offline_id")


@dataclass(frozen=True)
class Reconciliation:
    """One POS Closing Entry Detail; ERPNext's ``difference`` is closing minus expected."""

    mode_of_payment: str
    opening_amount: Decimal
    expected_amount: Decimal
    closing_amount: Decimal

    @property
    def difference(self) -> Decimal:
        return self.closing_amount - self.expected_amount


@dataclass(frozen=True)
class ShiftClosing:
    """A POS Closing Entry to record. ``period_end`` is the site's local wall time."""

    offline_id: str
    shift_offline_id: str
    user: str
    period_end: datetime
    payment_reconciliation: tuple[Reconciliation, ...]
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        require_uuid(self.offline_id, "offline_id")


@dataclass(frozen=True)
class CommittedShiftDocument:
    shift_id: int  # the POS Opening Entry row, for both opening and closing
    offline_id: str  # the document's own offline id
    outbox_entry_id: int
    journal_seq: int
    created: bool


def find_shift(session: Session, offline_id: str) -> PosOpeningEntry | None:
    return session.scalar(select(PosOpeningEntry).where(PosOpeningEntry.offline_id == offline_id))


def find_open_shift(session: Session, pos_profile: str) -> PosOpeningEntry | None:
    return session.scalar(
        select(PosOpeningEntry).where(
            PosOpeningEntry.pos_profile == pos_profile,
            PosOpeningEntry.status == ShiftStatus.OPEN,
        )
    )


def open_shift(session: Session, opening: ShiftOpening) -> CommittedShiftDocument:
    """Record an open shift; idempotent on ``offline_id``. One open shift per POS Profile."""
    existing = find_shift(session, opening.offline_id)
    if existing is not None:
        return _already(session, OPENING_DOCTYPE, existing.id, existing.offline_id)
    if find_open_shift(session, opening.pos_profile) is not None:
        # ERPNext refuses a second open entry for a profile too (v16 NOTES).
        raise ShiftError(f"a shift is already open for POS Profile {opening.pos_profile}")
    payload_text = jsonutil.dumps_payload(opening.payload)
    shift = PosOpeningEntry(
        offline_id=opening.offline_id,
        pos_profile=opening.pos_profile,
        company=opening.company,
        user=opening.user,
        period_start_date=opening.period_start,
        posting_date=opening.period_start.date(),
        status=ShiftStatus.OPEN,
        payload=payload_text,
        balance_details=[
            PosOpeningEntryDetail(
                idx=n + 1, mode_of_payment=b.mode_of_payment, opening_amount=b.opening_amount
            )
            for n, b in enumerate(opening.balance_details)
        ],
    )
    session.add(shift)
    session.flush()
    entry = outbox.enqueue(session, OPENING_DOCTYPE, opening.offline_id, payload_text)
    record = journal.append(
        session,
        journal.JournalKind.SHIFT_OPEN,
        opening.user,
        opening.offline_id,
        {
            "pos_profile": opening.pos_profile,
            "period_start_date": opening.period_start,
            "balance_details": {
                b.mode_of_payment: b.opening_amount for b in opening.balance_details
            },
        },
    )
    return CommittedShiftDocument(shift.id, shift.offline_id, entry.id, record.seq, True)


def close_shift(session: Session, closing: ShiftClosing) -> CommittedShiftDocument:
    """Record the closing of an open shift; idempotent on ``offline_id``.

    The closing's outbox entry waits for the opening entry and every sale of the shift: ERPNext
    consolidates only invoices it already has.
    """
    existing = session.scalar(
        select(PosClosingEntry).where(PosClosingEntry.offline_id == closing.offline_id)
    )
    if existing is not None:
        return _already(session, CLOSING_DOCTYPE, existing.opening_id, existing.offline_id)
    shift = find_shift(session, closing.shift_offline_id)
    if shift is None:
        raise ShiftError(f"no shift with offline id {closing.shift_offline_id}")
    if shift.status is not ShiftStatus.OPEN:
        raise ShiftError(f"shift {closing.shift_offline_id} is {shift.status}, not Open")
    payload_text = jsonutil.dumps_payload(closing.payload)
    end = closing.period_end
    record_row = PosClosingEntry(
        offline_id=closing.offline_id,
        opening=shift,
        user=closing.user,
        period_end_date=end,
        posting_date=end.date(),
        posting_time=time(end.hour, end.minute, end.second, end.microsecond),
        payload=payload_text,
        payment_reconciliation=[
            PosClosingEntryDetail(
                idx=n + 1,
                mode_of_payment=r.mode_of_payment,
                opening_amount=r.opening_amount,
                expected_amount=r.expected_amount,
                closing_amount=r.closing_amount,
                difference=r.difference,
            )
            for n, r in enumerate(closing.payment_reconciliation)
        ],
    )
    session.add(record_row)
    shift.status = ShiftStatus.CLOSED
    session.flush()
    entry = outbox.enqueue(
        session, CLOSING_DOCTYPE, closing.offline_id, payload_text, _closing_deps(session, shift)
    )
    record = journal.append(
        session,
        journal.JournalKind.SHIFT_CLOSE,
        closing.user,
        closing.offline_id,
        {
            "shift": shift.offline_id,
            "period_end_date": end,
            "reconciliation": {
                r.mode_of_payment: {
                    "expected": r.expected_amount,
                    "closing": r.closing_amount,
                    "difference": r.difference,
                }
                for r in closing.payment_reconciliation
            },
        },
    )
    return CommittedShiftDocument(shift.id, closing.offline_id, entry.id, record.seq, True)


def _closing_deps(session: Session, shift: PosOpeningEntry) -> list[OutboxEntry]:
    opening = outbox.find_entry(session, OPENING_DOCTYPE, shift.offline_id)
    if opening is None:
        raise ShiftError(f"shift {shift.offline_id} has no outbox entry")
    sales = select(PosInvoice.offline_id).where(PosInvoice.shift_id == shift.id)
    sale_entries = session.scalars(select(OutboxEntry).where(OutboxEntry.offline_id.in_(sales)))
    return [opening, *sale_entries]


def _already(
    session: Session, doctype: str, shift_id: int, offline_id: str
) -> CommittedShiftDocument:
    entry = outbox.find_entry(session, doctype, offline_id)
    seq = session.scalar(
        select(JournalEntry.seq).where(JournalEntry.ref == offline_id).order_by(JournalEntry.seq)
    )
    if entry is None or seq is None:
        raise ShiftError(f"{doctype} {offline_id} exists without its outbox or journal entry")
    return CommittedShiftDocument(shift_id, offline_id, entry.id, seq, False)

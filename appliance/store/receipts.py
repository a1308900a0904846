"""Receipt numbers: ``<terminal>-<6 digits>``, sequential and gap-free per terminal.

The counter is bumped in the sale's own transaction, so a sale that rolls back hands its number
back and the next sale gets it: printed receipts never skip a number.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.store.models import PosInvoice, ReceiptCounter

_TERMINAL_ID = re.compile(r"^[A-Za-z0-9_]+$")
_RECEIPT_NO = re.compile(r"^(?P<terminal>[A-Za-z0-9_]+)-(?P<n>\d+)$")


def format_receipt_no(terminal_id: str, number: int) -> str:
    return f"{terminal_id}-{number:06d}"


def next_receipt_no(session: Session, terminal_id: str) -> str:
    """Allocate the next number for ``terminal_id`` inside the caller's write transaction."""
    if not _TERMINAL_ID.match(terminal_id):
        raise ValueError(f"terminal id {terminal_id!r} must be letters, digits or _")
    counter = session.get(ReceiptCounter, terminal_id)
    if counter is None:
        counter = ReceiptCounter(terminal_id=terminal_id, last_no=0)
        session.add(counter)
    counter.last_no += 1
    session.flush()
    return format_receipt_no(terminal_id, counter.last_no)


def give_back_receipt_no(session: Session, receipt_no: str) -> bool:
    """Return a number allocated in this transaction but not used (e.g. an idempotent replay).

    Only the latest, unused number can go back, so numbering stays gap-free; returns whether it
    did.
    """
    match = _RECEIPT_NO.match(receipt_no)
    if match is None:
        return False
    if session.scalar(select(PosInvoice.id).where(PosInvoice.receipt_no == receipt_no)):
        return False
    counter = session.get(ReceiptCounter, match["terminal"])
    if counter is None or counter.last_no != int(match["n"]):
        return False
    counter.last_no -= 1
    session.flush()
    return True

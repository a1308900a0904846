"""Receipt numbers: ``<terminal>-<6 digits>``, sequential and gap-free per terminal.

The counter is bumped in the sale's own transaction, so a sale that rolls back hands its number
back and the next sale gets it: printed receipts never skip a number.

Both functions write with one Core statement each (an upsert, a guarded decrement) instead of
loading and flushing the counter row: they sit on the sale commit path. Nothing else writes the
counter, so no ORM copy of the row can go stale.
"""

from __future__ import annotations

import re
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from appliance.store.models import PosInvoice, ReceiptCounter

_TERMINAL_ID = re.compile(r"^[A-Za-z0-9_]+$")
_RECEIPT_NO = re.compile(r"^(?P<terminal>[A-Za-z0-9_]+)-(?P<n>\d+)$")

_counters = cast(Table, ReceiptCounter.__table__)
# The first number for a new terminal, or the next one for a known terminal, in one statement.
_BUMP = (
    insert(_counters)
    .values(terminal_id=bindparam("terminal"), last_no=1)
    .on_conflict_do_update(
        index_elements=[_counters.c.terminal_id], set_={"last_no": _counters.c.last_no + 1}
    )
    .returning(_counters.c.last_no)
)
# Only the latest number can go back.
_GIVE_BACK = (
    update(_counters)
    .where(_counters.c.terminal_id == bindparam("terminal"), _counters.c.last_no == bindparam("n"))
    .values(last_no=_counters.c.last_no - 1)
)
_USED = select(PosInvoice.id).where(PosInvoice.receipt_no == bindparam("receipt_no"))


def format_receipt_no(terminal_id: str, number: int) -> str:
    return f"{terminal_id}-{number:06d}"


def next_receipt_no(session: Session, terminal_id: str) -> str:
    """Allocate the next number for ``terminal_id`` inside the caller's write transaction."""
    if not _TERMINAL_ID.match(terminal_id):
        raise ValueError(f"terminal id {terminal_id!r} must be letters, digits or _")
    number = session.connection().execute(_BUMP, {"terminal": terminal_id}).scalar_one()
    _note(session, terminal_id, number)
    return format_receipt_no(terminal_id, number)


def _note(session: Session, terminal_id: str, number: int) -> None:
    """The number the store's high-water mark moves to when this transaction commits."""
    session.info.setdefault("watermark_receipts", {})[terminal_id] = number


def give_back_receipt_no(session: Session, receipt_no: str) -> bool:
    """Return a number allocated in this transaction but not used (e.g. an idempotent replay).

    Only the latest, unused number can go back, so numbering stays gap-free; returns whether it
    did.
    """
    match = _RECEIPT_NO.match(receipt_no)
    if match is None:
        return False
    session.flush()  # a sale still pending in the session may be using the number
    conn = session.connection()
    if conn.execute(_USED, {"receipt_no": receipt_no}).first() is not None:
        return False
    result = conn.execute(_GIVE_BACK, {"terminal": match["terminal"], "n": int(match["n"])})
    given_back = bool(getattr(result, "rowcount", 0))
    if given_back:
        _note(session, match["terminal"], int(match["n"]) - 1)
    return given_back

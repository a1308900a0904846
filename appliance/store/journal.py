"""Append to and verify the hash-chained audit journal.

Each entry's ``hash = sha256(prev_hash + canonical)`` in hex, where ``canonical`` is the canonical
JSON (``appliance.store.jsonutil.canonical``) of ``[seq, at, kind, actor, ref, data]`` and the
first entry's ``prev_hash`` is 64 zeros. Editing, deleting or reordering entries breaks the chain;
``verify`` names the first entry where it breaks.

Appends read the last entry and insert the next, so they must be serialised: they run inside the
caller's write transaction, which begins IMMEDIATE (``appliance.store.db``) and so holds SQLite's
write lock from its first statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session, make_transient_to_detached

from appliance.store import jsonutil
from appliance.store.models import JournalEntry

GENESIS_HASH = "0" * 64


class JournalKind(StrEnum):
    """What an entry records. Stored as text: adding a kind needs no migration."""

    SALE = "sale"
    RETURN = "return"
    VOID = "void"
    OVERRIDE = "override"
    PRICE_CHANGE = "price_change"
    DISCOUNT = "discount"
    DRAWER_OPEN = "drawer_open"
    SHIFT_OPEN = "shift_open"
    SHIFT_CLOSE = "shift_close"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    SIGN_IN_PAUSED = "sign_in_paused"  # too many wrong PINs at this till: every sign-in waits
    APPROVAL_FAILED = "approval_failed"  # a wrong supervisor PIN, counted against the asker
    APPROVAL_BLOCKED = "approval_blocked"  # that cashier's approval requests wait a while
    CUSTOMER_CREATE = "customer_create"
    OUTBOX_RETRY = "outbox_retry"  # a supervisor asked for a quarantined document to be re-sent
    SYNC_QUARANTINE = "sync_quarantine"  # ERPNext refused a document: the agent holds it
    SYNC_MISMATCH = "sync_mismatch"  # ERPNext's totals for a sale differ from the till's
    PULL_FULL_START = "pull_full_start"  # the agent's first full pull of the masters began
    PULL_FULL_END = "pull_full_end"
    PULL_SKIPPED = "pull_skipped"  # the store refused one document from ERPNext: skipped
    USB_EXPORT = "usb_export"
    CLOSING_FAILED = "closing_failed"  # ERPNext's background consolidation of a closing failed
    CLOSING_CONSOLIDATED = "closing_consolidated"  # ...a queued or failed one ended Submitted
    SHIFT_REFUSED = "shift_refused"  # ERPNext 16 refused an opening: profile or user in use
    STORE_LOSS_ACCEPTED = "store_loss_accepted"  # IT: the store lost committed work, go on


class JournalVerdict(StrEnum):
    INTACT = "intact"
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"


@dataclass(frozen=True)
class VerifyResult:
    verdict: JournalVerdict
    count: int  # entries present
    seq: int | None = None  # the first bad entry (for DELETED: the first missing seq)
    detail: str = ""

    @property
    def intact(self) -> bool:
        return self.verdict is JournalVerdict.INTACT

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.verdict.value, "entries": self.count}
        if self.seq is not None:
            out["seq"] = self.seq
        if self.detail:
            out["detail"] = self.detail
        return out


def entry_hash(
    prev_hash: str, *, seq: int, at: str, kind: str, actor: str, ref: str | None, data: Any
) -> str:
    body = jsonutil.canonical([seq, at, kind, actor, ref, data])
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(
    session: Session,
    kind: JournalKind,
    actor: str,
    ref: str | None,
    data: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> JournalEntry:
    """Add the next entry in the caller's (IMMEDIATE) transaction; the caller commits.

    One read (the chain's head and the highest seq ever used) and one Core insert; the entry
    comes back as a persistent object of the caller's session, as if it had been flushed.
    """
    when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    session.flush()  # earlier pending entries must have their seq before we read the last one
    conn = session.connection()
    highest_ever, last_seq, last_hash = conn.execute(_HEAD).one()
    # The next number comes from sqlite_sequence, not max(seq)+1: if the newest entries were
    # deleted their numbers stay used, so the gap shows instead of being papered over.
    next_seq = max(highest_ever or 0, last_seq or 0) + 1
    prev_hash = last_hash if last_seq is not None else GENESIS_HASH
    canonical_data = jsonutil.canonical(data)
    parsed = jsonutil.loads(canonical_data)
    values = {
        "seq": next_seq,
        "at": when,
        "kind": kind.value,
        "actor": actor,
        "ref": ref,
        "data": canonical_data,
        "prev_hash": prev_hash,
        "hash": entry_hash(
            prev_hash, seq=next_seq, at=when, kind=kind.value, actor=actor, ref=ref, data=parsed
        ),
    }
    conn.execute(_INSERT, values)
    # The store's high-water mark follows once this transaction commits (store/db.py).
    session.info["watermark_journal"] = (next_seq, values["hash"])
    entry = JournalEntry(**values)
    make_transient_to_detached(entry)  # the row is written: attach it without another INSERT
    session.add(entry)
    return entry


# The chain's head and sqlite_sequence's high-water mark, read together.
_HEAD = text(
    "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'journal'),"
    " (SELECT seq FROM journal ORDER BY seq DESC LIMIT 1),"
    " (SELECT hash FROM journal ORDER BY seq DESC LIMIT 1)"
)
_INSERT = insert(cast(Table, JournalEntry.__table__))


def _highest_seq_ever(session: Session) -> int:
    row = session.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'journal'")).first()
    return int(row[0]) if row else 0


def _recompute(entry: JournalEntry, *, seq: int | None = None, prev_hash: str | None = None) -> str:
    return entry_hash(
        entry.prev_hash if prev_hash is None else prev_hash,
        seq=entry.seq if seq is None else seq,
        at=entry.at,
        kind=entry.kind,
        actor=entry.actor,
        ref=entry.ref,
        data=jsonutil.loads(entry.data),
    )


def _entries(session: Session) -> Iterator[JournalEntry]:
    stmt = select(JournalEntry).order_by(JournalEntry.seq).execution_options(yield_per=1000)
    for entry in session.scalars(stmt):
        yield entry
        session.expunge(entry)  # a long journal must not pile up in the identity map


def verify(session: Session) -> VerifyResult:
    """Walk the chain in seq order and report the first entry that breaks it."""
    count = session.scalar(select(func.count()).select_from(JournalEntry)) or 0
    prev_seq = 0
    prev_hash = GENESIS_HASH
    for entry in _entries(session):
        if entry.seq != prev_seq + 1:
            return VerifyResult(
                JournalVerdict.DELETED, count, prev_seq + 1, f"seq {prev_seq + 1} is missing"
            )
        if not _content_hash_ok(entry):
            return _classify_bad_content(session, entry, count)
        if entry.prev_hash != prev_hash:
            predecessor = _seq_of_hash(session, entry.prev_hash)
            if predecessor is not None and predecessor > entry.seq:
                return VerifyResult(
                    JournalVerdict.REORDERED, count, entry.seq, "follows an entry placed after it"
                )
            return VerifyResult(
                JournalVerdict.DELETED,
                count,
                entry.seq,
                "prev_hash does not match the entry before: an entry was removed",
            )
        prev_seq, prev_hash = entry.seq, entry.hash
    highest = _highest_seq_ever(session)
    if highest > prev_seq:
        return VerifyResult(
            JournalVerdict.DELETED,
            count,
            prev_seq + 1,
            f"entries {prev_seq + 1}..{highest} removed",
        )
    return VerifyResult(JournalVerdict.INTACT, count)


def _content_hash_ok(entry: JournalEntry) -> bool:
    try:
        return _recompute(entry) == entry.hash
    except ValueError:  # data no longer valid JSON
        return False


def _classify_bad_content(session: Session, entry: JournalEntry, count: int) -> VerifyResult:
    """A hash mismatch is a reorder when the content is intact but sits at another position."""
    try:
        jsonutil.loads(entry.data)
    except ValueError:
        return VerifyResult(JournalVerdict.EDITED, count, entry.seq, "data is not valid JSON")
    for other in _entries(session):
        if other.seq == entry.seq:
            continue
        if _recompute(entry, seq=other.seq) == entry.hash:
            # The whole row was renumbered. If the entry it followed is still here, rows were
            # moved around; if not, rows were deleted and the rest renumbered to hide the gap.
            if entry.prev_hash == GENESIS_HASH or _seq_of_hash(session, entry.prev_hash):
                return VerifyResult(
                    JournalVerdict.REORDERED, count, entry.seq, f"belongs at seq {other.seq}"
                )
            return VerifyResult(
                JournalVerdict.DELETED,
                count,
                entry.seq,
                f"entry was seq {other.seq}; the one before it is gone and the rest renumbered",
            )
        if _recompute(entry, seq=other.seq, prev_hash=other.prev_hash) == other.hash:
            # Contents swapped under fixed seq/hash columns: this content is another row's.
            return VerifyResult(
                JournalVerdict.REORDERED, count, entry.seq, f"content belongs at seq {other.seq}"
            )
    return VerifyResult(JournalVerdict.EDITED, count, entry.seq, "hash does not match content")


def _seq_of_hash(session: Session, digest: str) -> int | None:
    return session.scalar(select(JournalEntry.seq).where(JournalEntry.hash == digest))

"""Writing to and moving through the outbox. Entries are written in the caller's transaction,
beside the document they carry; only the agent moves them on, and only after ERPNext answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from appliance.store.models import OutboxDependency, OutboxEntry, OutboxState

_INSERT_ENTRY = insert(cast(Table, OutboxEntry.__table__))
_INSERT_DEPENDENCY = insert(cast(Table, OutboxDependency.__table__))


def enqueue(
    session: Session,
    doctype: str,
    offline_id: str,
    payload: str,
    depends_on: Iterable[OutboxEntry] = (),
) -> OutboxEntry:
    """Add a READY entry that waits for every entry in ``depends_on`` to be DONE."""
    entry = OutboxEntry(doctype=doctype, offline_id=offline_id, payload=payload)
    session.add(entry)
    session.flush()
    seen: set[int] = set()
    for dep in depends_on:
        if dep.id not in seen and dep.id != entry.id:
            seen.add(dep.id)
            session.add(OutboxDependency(entry_id=entry.id, depends_on_id=dep.id))
    session.flush()
    return entry


def enqueue_row(
    session: Session,
    doctype: str,
    offline_id: str,
    payload: str,
    depends_on: Iterable[int] = (),
) -> int:
    """``enqueue`` for the sale commit path: Core inserts, entry ids in and out, no ORM objects.

    The row gets the same column defaults as ``enqueue`` (READY, no attempts, created and
    updated now); the dependencies go in as one executemany.
    """
    conn = session.connection()
    entry_id = conn.execute(
        _INSERT_ENTRY, {"doctype": doctype, "offline_id": offline_id, "payload": payload}
    ).lastrowid
    deps = [
        {"entry_id": entry_id, "depends_on_id": dep}
        for dep in dict.fromkeys(depends_on)  # unique, in the order given
        if dep != entry_id
    ]
    if deps:
        conn.execute(_INSERT_DEPENDENCY, deps)
    return entry_id


def find_entry(session: Session, doctype: str, offline_id: str) -> OutboxEntry | None:
    return session.scalar(
        select(OutboxEntry).where(
            OutboxEntry.doctype == doctype, OutboxEntry.offline_id == offline_id
        )
    )


def find_by_offline_id(session: Session, offline_id: str) -> OutboxEntry | None:
    """The entry carrying this document, whatever doctype it was queued as."""
    return session.scalar(
        select(OutboxEntry).where(OutboxEntry.offline_id == offline_id).order_by(OutboxEntry.id)
    )


def sendable(session: Session, limit: int = 50) -> Sequence[OutboxEntry]:
    """READY entries whose dependencies are all DONE, oldest first.

    An entry whose dependency is quarantined stays here unsent, and so does everything after it
    in its own chain, while unrelated documents keep flowing.
    """
    dep = aliased(OutboxEntry)
    blocked = (
        select(OutboxDependency.entry_id)
        .join(dep, dep.id == OutboxDependency.depends_on_id)
        .where(OutboxDependency.entry_id == OutboxEntry.id, dep.state != OutboxState.DONE)
    )
    # UtcDateTime stores one fixed ISO format in UTC, so comparing the text compares the time.
    due = or_(
        OutboxEntry.next_attempt_at.is_(None), OutboxEntry.next_attempt_at <= datetime.now(UTC)
    )
    stmt = (
        select(OutboxEntry)
        .where(OutboxEntry.state == OutboxState.READY, due, ~exists(blocked))
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def mark_in_flight(session: Session, entry: OutboxEntry) -> None:
    _require(entry, OutboxState.READY)
    entry.state = OutboxState.IN_FLIGHT
    session.flush()


def mark_done(session: Session, entry: OutboxEntry, erpnext_name: str) -> None:
    _require(entry, OutboxState.IN_FLIGHT, OutboxState.READY, OutboxState.QUARANTINED)
    entry.state = OutboxState.DONE
    entry.erpnext_name = erpnext_name
    entry.last_error = None
    session.flush()


def mark_failed(
    session: Session,
    entry: OutboxEntry,
    error: str,
    retry_at: datetime | None,
    *,
    answered: bool = False,
) -> None:
    """A transient failure (network, 5xx): back to READY, to be retried at ``retry_at``.

    ``attempts`` counts ERPNext's answers about this document (``answered``), not claims a
    restart or a lost link cut short: it decides when a document is quarantined."""
    _require(entry, OutboxState.IN_FLIGHT)
    entry.state = OutboxState.READY
    if answered:
        entry.attempts += 1
    entry.last_error = error
    entry.next_attempt_at = retry_at
    session.flush()


def quarantine(session: Session, entry: OutboxEntry, error: str) -> None:
    """ERPNext refused the document: keep it, with ERPNext's own message, until a person acts."""
    _require(entry, OutboxState.IN_FLIGHT, OutboxState.READY)
    entry.state = OutboxState.QUARANTINED
    entry.last_error = error
    session.flush()


def release(session: Session, entry: OutboxEntry) -> None:
    """A supervisor fixed the cause: try the quarantined entry again."""
    _require(entry, OutboxState.QUARANTINED)
    entry.state = OutboxState.READY
    entry.next_attempt_at = None
    session.flush()


def reset_in_flight(session: Session) -> int:
    """At start-up: whatever was in flight when the agent stopped goes back to READY.

    The agent must then look each one up in ERPNext by offline id before resending it.
    """
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.state == OutboxState.IN_FLIGHT)
        .values(state=OutboxState.READY, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class OutboxStateError(RuntimeError):
    pass


def _require(entry: OutboxEntry, *allowed: OutboxState) -> None:
    if entry.state not in allowed:
        raise OutboxStateError(
            f"outbox entry {entry.id} ({entry.doctype} {entry.offline_id}) is {entry.state}, "
            f"expected {' or '.join(s.value for s in allowed)}"
        )

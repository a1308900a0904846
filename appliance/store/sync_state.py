"""What the agent tells the rest of the appliance, kept in the store's ``sync_state`` table.

The agent writes; ``appliance status`` and the counter's status bar read. Every value is one
``agent.<key>`` row holding JSON, written together in one short transaction per cycle so a sale
commit never waits behind it.

- ``agent.link``: ``up``; ``down`` (no answer, 5xx, timeouts); ``stopped`` (auth, TLS, setup:
  a person must act; retried slowly); ``unknown``;
- ``agent.link_since``: when ``agent.link`` last changed (ISO 8601, UTC);
- ``agent.last_error``: the last failure's text, null once a cycle went through; a named
  failure (:mod:`appliance.agent.problems`) starts with its name;
- ``agent.failed_cycles``: cycles in a row that ended with an error (0 after a good one);
- ``agent.last_cycle``, ``agent.next_attempt``: when the last cycle ended, when the next begins;
- ``agent.last_push``: ``{"at", "created", "found", "quarantined", "retrying", "mismatches"}`` of
  the last push that reached ERPNext;
- ``agent.last_pull``: ``{"at", "applied", "pages"}`` of the last complete pull;
- ``agent.pull_progress``: written with every pull page: ``{"doctype", "pages", "applied",
  "by_doctype", "first", "running", "started", "at"}`` (``first``: the store's first full pull;
  ``running`` false once the pull completed);
- ``agent.pid``: the agent's process id (informational).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.db import unit_of_work
from appliance.store.journal import JournalKind
from appliance.store.models import JournalEntry, OutboxEntry, OutboxState, SyncState

PREFIX = "agent."


FAILING_CYCLES = 3  # this many failed cycles in a row and `appliance health` fails


class Link(StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"
    STOPPED = "stopped"  # credentials, permissions, TLS or setup: retried only slowly


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def write_state(write: sessionmaker[Session], values: Mapping[str, Any]) -> None:
    """Upsert ``agent.<key>`` rows (JSON values) in one short transaction.

    ``agent.link_since`` follows ``agent.link`` by itself: it moves only when the state changes.
    """
    with unit_of_work(write) as uow:
        session = uow.session
        link = values.get("link")
        if link is not None:
            current = session.get(SyncState, PREFIX + "link")
            if current is None or json.loads(current.value) != str(link):
                values = {**values, "link_since": now_iso()}
        for key, value in values.items():
            text = json.dumps(value, default=str)
            row = session.get(SyncState, PREFIX + key)
            if row is None:
                session.add(SyncState(key=PREFIX + key, value=text))
            else:
                row.value = text
        uow.commit()


def read_state(session: Session) -> dict[str, Any]:
    """Every ``agent.*`` value, decoded, keyed without the prefix."""
    rows = session.scalars(select(SyncState).where(SyncState.key.startswith(PREFIX)))
    out: dict[str, Any] = {}
    for row in rows:
        try:
            out[row.key[len(PREFIX) :]] = json.loads(row.value)
        except json.JSONDecodeError:
            out[row.key[len(PREFIX) :]] = row.value
    return out


def link_state(session: Session) -> Link:
    value = read_state(session).get("link")
    try:
        return Link(str(value))
    except ValueError:
        return Link.UNKNOWN


def link_from(read: sessionmaker[Session]) -> Link:
    with read() as session:
        try:
            return link_state(session)
        finally:
            session.rollback()


def queue_depth(session: Session) -> dict[str, int]:
    """Outbox entries by state, every state named (zero included)."""
    counts = dict(
        session.execute(select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)).all()
    )
    return {state.value.lower(): int(counts.get(state, 0)) for state in OutboxState}


def quarantined(session: Session) -> list[dict[str, Any]]:
    """Each quarantined document with ERPNext's own message."""
    rows = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.state == OutboxState.QUARANTINED)
        .order_by(OutboxEntry.id)
    )
    return [
        {
            "id": e.id,
            "doctype": e.doctype,
            "offline_id": e.offline_id,
            "message": e.last_error,
            "attempts": e.attempts,
            "since": e.updated_at.isoformat(timespec="seconds") if e.updated_at else None,
        }
        for e in rows
    ]


# What the agent journals about documents (besides the outbox's own state, which a retry or a
# later success overwrites): each refusal, each totals difference, each supervisor's retry.
SYNC_JOURNAL_KINDS = (
    JournalKind.SYNC_QUARANTINE,
    JournalKind.SYNC_MISMATCH,
    JournalKind.OUTBOX_RETRY,
    JournalKind.PULL_SKIPPED,
)


def sync_journal(session: Session, latest: int = 5) -> dict[str, Any]:
    """Counts of the sync journal kinds and the ``latest`` entries, newest first."""
    kinds = [k.value for k in SYNC_JOURNAL_KINDS]
    counts = dict(
        session.execute(
            select(JournalEntry.kind, func.count())
            .where(JournalEntry.kind.in_(kinds))
            .group_by(JournalEntry.kind)
        ).all()
    )
    rows = session.scalars(
        select(JournalEntry)
        .where(JournalEntry.kind.in_(kinds))
        .order_by(JournalEntry.seq.desc())
        .limit(latest)
    )
    return {
        "counts": {k: int(counts.get(k, 0)) for k in kinds},
        "latest": [
            {"seq": e.seq, "at": e.at, "kind": e.kind, "actor": e.actor, "offline_id": e.ref}
            | _journal_data(e.data)
            for e in rows
        ],
    }


def exported(session: Session) -> dict[str, Any]:
    """USB transfer: unsynced documents a bundle carries, and the last ``appliance export``."""
    unsynced = session.scalar(
        select(func.count())
        .select_from(OutboxEntry)
        .where(OutboxEntry.exported_bundle.is_not(None), OutboxEntry.state != OutboxState.DONE)
    )
    last = session.scalar(
        select(JournalEntry)
        .where(JournalEntry.kind == JournalKind.USB_EXPORT.value)
        .order_by(JournalEntry.seq.desc())
        .limit(1)
    )
    return {
        "unsynced": int(unsynced or 0),
        "last": {"bundle_id": last.ref, "at": last.at, "actor": last.actor}
        | _journal_data(last.data)
        if last is not None
        else None,
    }


def _journal_data(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"data": text}
    return data if isinstance(data, dict) else {"data": data}

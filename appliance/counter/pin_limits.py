"""Limits on PIN guessing beyond each cashier's own lock-out, read back from the audit journal.

Each cashier is locked after 5 wrong PINs (:mod:`appliance.counter.auth`), but with several
cashiers that still lets someone at the till try 5 PINs per cashier every 5 minutes. Two more
limits, both kept in the journal (so a restart or pulled plug resets nothing):

- **Till-wide**: ``TILL_MAX_FAILURES`` wrong sign-in PINs across all cashiers within
  ``TILL_WINDOW_MINUTES`` pause every sign-in at this till for ``TILL_PAUSE_MINUTES``
  (journaled as ``sign_in_paused``). 10 guesses per 15 minutes make a 4-digit PIN take days of
  guessing on average, each pause in the journal, while a few honest typos never trigger it.
- **Approvals**: wrong supervisor PINs typed into the approval dialog count against the cashier
  who asked (``approval_failed``, that cashier the actor), never against the supervisor: a
  cashier cannot lock the only supervisor out. ``APPROVAL_MAX_FAILURES`` of them within
  ``APPROVAL_WINDOW_MINUTES`` block that cashier's approvals for ``APPROVAL_BLOCK_MINUTES``
  (``approval_blocked``); a successful approval for that cashier starts the count afresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from appliance.counter.clock import on_the_minute
from appliance.store.journal import JournalKind
from appliance.store.models import JournalEntry

TILL_MAX_FAILURES = 10
TILL_WINDOW_MINUTES = 10
TILL_PAUSE_MINUTES = 15
APPROVAL_MAX_FAILURES = 3
APPROVAL_WINDOW_MINUTES = 10
APPROVAL_BLOCK_MINUTES = 10
TILL_ACTOR = "till"  # the journal's actor for the till-wide pause: no one person caused it
_ROWS = 200  # more than any window can hold before its limit stops further tries


@dataclass(frozen=True)
class Limit:
    failures: int
    window: timedelta
    pause: timedelta

    def until(self, now: datetime) -> datetime:
        """When a pause that starts ``now`` ends: on a whole minute, as it is said."""
        return on_the_minute(now + self.pause)


TILL = Limit(
    TILL_MAX_FAILURES, timedelta(minutes=TILL_WINDOW_MINUTES), timedelta(minutes=TILL_PAUSE_MINUTES)
)
APPROVAL = Limit(
    APPROVAL_MAX_FAILURES,
    timedelta(minutes=APPROVAL_WINDOW_MINUTES),
    timedelta(minutes=APPROVAL_BLOCK_MINUTES),
)


class Event(StrEnum):
    FAILURE = "failure"  # a wrong PIN that counts
    RESET = "reset"  # a success that starts the count afresh
    PAUSE = "pause"  # the limit was reached: nothing until the pause ends


@dataclass(frozen=True)
class LimitState:
    failures: int  # counted failures in the window (since the last pause or reset)
    until: datetime | None = None  # paused until then


def limit_state(
    events: Iterable[tuple[Event, datetime, datetime | None]], limit: Limit, now: datetime
) -> LimitState:
    """From (event, at, pause end) newest first: whether a pause lasts, and failures counted."""
    failures = 0
    for event, at, until in events:
        if event is Event.PAUSE:
            if until is not None and until > now:
                return LimitState(failures, until)
            break  # the pause ran out: count afresh
        if event is Event.RESET or at <= now - limit.window:
            break
        failures += 1
    return LimitState(failures)


def _since(now: datetime, limit: Limit) -> str:
    # Journal times are UTC ISO text of one width: compared as text, like the column stores them.
    start = now - max(limit.window, limit.pause)
    return start.astimezone(UTC).isoformat(timespec="microseconds")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _until(data: dict[str, object]) -> datetime | None:
    until = data.get("until")
    return datetime.fromisoformat(str(until)) if until else None


def till_pause(session: Session, now: datetime) -> LimitState:
    """The till-wide sign-in pause: wrong sign-in PINs of every cashier, and pauses."""
    rows = session.execute(
        select(JournalEntry.kind, JournalEntry.at, JournalEntry.data)
        .where(
            JournalEntry.kind.in_([JournalKind.SIGN_IN_FAILED, JournalKind.SIGN_IN_PAUSED]),
            JournalEntry.at >= _since(now, TILL),
        )
        .order_by(JournalEntry.seq.desc())
        .limit(_ROWS)
    ).all()
    events: list[tuple[Event, datetime, datetime | None]] = []
    for kind, at, raw in rows:
        data = json.loads(raw)
        if kind == JournalKind.SIGN_IN_PAUSED:
            events.append((Event.PAUSE, _at(at), _until(data)))
        elif data.get("reason") == "wrong_pin" and data.get("purpose", "sign_in") == "sign_in":
            events.append((Event.FAILURE, _at(at), None))
    return limit_state(events, TILL, now)


def approval_block(session: Session, cashier: str, now: datetime) -> LimitState:
    """Whether ``cashier``'s approval requests are blocked, and their wrong supervisor PINs."""
    rows = session.execute(
        select(JournalEntry.kind, JournalEntry.at, JournalEntry.actor, JournalEntry.data)
        .where(
            or_(
                JournalEntry.kind == JournalKind.OVERRIDE,
                JournalEntry.actor == cashier,
            ),
            JournalEntry.kind.in_(
                [JournalKind.OVERRIDE, JournalKind.APPROVAL_FAILED, JournalKind.APPROVAL_BLOCKED]
            ),
            JournalEntry.at >= _since(now, APPROVAL),
        )
        .order_by(JournalEntry.seq.desc())
        .limit(_ROWS)
    ).all()
    events: list[tuple[Event, datetime, datetime | None]] = []
    for kind, at, _actor, raw in rows:
        data = json.loads(raw)
        if kind == JournalKind.APPROVAL_BLOCKED:
            events.append((Event.PAUSE, _at(at), _until(data)))
        elif kind == JournalKind.OVERRIDE:
            if data.get("cashier") == cashier:
                events.append((Event.RESET, _at(at), None))
        elif data.get("reason") == "wrong_pin":
            events.append((Event.FAILURE, _at(at), None))
    return limit_state(events, APPROVAL, now)

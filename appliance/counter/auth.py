"""Who is at the till: PIN sign-in against Argon2 hashes, lock-out, and role limits.

Only hashes are stored (``Cashier.pin_hash``); verifying one is deliberately slow, so callers
run these functions off the screen's thread. The lock-out state is not a column: it is read
back from the journal, where every attempt is recorded anyway, so it survives a restart and
cannot be reset by pulling the plug.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.counter.cashier import LIST_CASHIERS_SQL, CashierCard, cards
from appliance.store import journal
from appliance.store.journal import JournalKind
from appliance.store.models import Cashier, JournalEntry

MAX_FAILURES = 5
LOCK_MINUTES = 5


class Outcome(StrEnum):
    OK = "ok"
    WRONG_PIN = "wrong_pin"
    LOCKED = "locked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AuthResult:
    outcome: Outcome
    message: str
    cashier: CashierCard | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def card(row: Cashier) -> CashierCard:
    return CashierCard(
        user=row.user,
        full_name=row.full_name,
        role=row.role,
        max_discount_percentage=row.max_discount_percentage,
        max_return_amount=row.max_return_amount,
    )


def list_cashiers(session: Session) -> list[CashierCard]:
    """The enabled cashiers: the sign-in screen's query (`read_cashiers`), on this session."""
    return cards(session.connection().exec_driver_sql(LIST_CASHIERS_SQL))


@dataclass(frozen=True)
class LockState:
    failures: int  # wrong PINs since the last success or the last lock ran out
    locked_until: datetime | None = None


def lock_state(entries: Iterable[tuple[str, str, dict[str, Any]]], now: datetime) -> LockState:
    """From a cashier's journal entries (kind, at, data), newest first: locked, and failures."""
    failures = 0
    for kind, _at, data in entries:
        if kind != JournalKind.SIGN_IN_FAILED:
            break  # a sign-in or an approval with the right PIN
        until = data.get("locked_until")
        if until:
            ends = datetime.fromisoformat(str(until))
            if ends > now:
                return LockState(failures, ends)
            break  # the lock ran out: start counting afresh
        if data.get("reason") == Outcome.LOCKED:
            continue  # tries while locked do not count again
        failures += 1
    return LockState(failures)


def _entries(session: Session, user: str) -> list[tuple[str, str, dict[str, Any]]]:
    kinds = (JournalKind.SIGN_IN, JournalKind.SIGN_IN_FAILED, JournalKind.OVERRIDE)
    rows = session.execute(
        select(JournalEntry.kind, JournalEntry.at, JournalEntry.data)
        .where(JournalEntry.actor == user, JournalEntry.kind.in_([k.value for k in kinds]))
        .order_by(JournalEntry.seq.desc())
        .limit(4 * MAX_FAILURES)
    ).all()
    return [(kind, at, json.loads(data)) for kind, at, data in rows]


def current_lock(session: Session, user: str, now: datetime) -> LockState:
    return lock_state(_entries(session, user), now)


def verify_pin(pin_hash: str, pin: str, hasher: PasswordHasher | None = None) -> bool:
    try:
        return (hasher or PasswordHasher()).verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def _until(ends: datetime) -> str:
    return ends.astimezone().strftime("%H:%M")


def authenticate(
    read: Session,
    write: Session,
    user: str,
    pin: str,
    *,
    purpose: str = "sign_in",
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuthResult:
    """Check ``user``'s PIN and journal the attempt in ``write`` (the caller commits).

    ``purpose`` is ``sign_in`` (journaled as a sign-in) or an approval (the caller journals the
    approved action itself); either way a wrong PIN counts towards the lock-out.
    """
    now = now or datetime.now(UTC)
    row = read.get(Cashier, user)
    if row is None or not row.enabled:
        return AuthResult(Outcome.UNKNOWN, f"{user} may not sign in at this till")
    who = card(row)
    state = current_lock(read, user, now)
    base = {"purpose": purpose, **(detail or {})}
    if state.locked_until is not None:
        journal.append(
            write, JournalKind.SIGN_IN_FAILED, user, None, {**base, "reason": Outcome.LOCKED}
        )
        return AuthResult(
            Outcome.LOCKED,
            f"{who.full_name} is locked after {MAX_FAILURES} wrong PINs until "
            f"{_until(state.locked_until)}",
            locked_until=state.locked_until,
        )
    pin_hash = row.pin_hash
    read.rollback()  # do not hold the read snapshot through the slow hash
    if verify_pin(pin_hash, pin):
        if purpose == "sign_in":
            journal.append(write, JournalKind.SIGN_IN, user, None, {**base, "role": who.role})
        return AuthResult(Outcome.OK, f"Welcome, {who.full_name}", who)
    # Count again inside the write transaction: a second till may have failed meanwhile.
    state = current_lock(write, user, now)
    failures = state.failures + 1
    data: dict[str, Any] = {**base, "reason": Outcome.WRONG_PIN, "failures": failures}
    if failures >= MAX_FAILURES:
        ends = now + timedelta(minutes=LOCK_MINUTES)
        data["locked_until"] = ends.isoformat()
        journal.append(write, JournalKind.SIGN_IN_FAILED, user, None, data)
        return AuthResult(
            Outcome.LOCKED,
            f"Wrong PIN. {who.full_name} is locked for {LOCK_MINUTES} minutes "
            f"(until {_until(ends)})",
            locked_until=ends,
        )
    journal.append(write, JournalKind.SIGN_IN_FAILED, user, None, data)
    left = MAX_FAILURES - failures
    return AuthResult(Outcome.WRONG_PIN, f"Wrong PIN: {left} tr{'y' if left == 1 else 'ies'} left")


def supervisors(cashiers: Sequence[CashierCard]) -> list[CashierCard]:
    return [c for c in cashiers if c.supervises]

"""Who is at the till: PIN sign-in against Argon2 hashes, lock-out, and role limits.

Only hashes are stored (``Cashier.pin_hash``); verifying one is deliberately slow, so callers
run these functions off the screen's thread. The lock-out state is not a column: it is read
back from the journal, where every attempt is recorded anyway, so it survives a restart and
cannot be reset by pulling the plug. The till-wide sign-in pause and the limit on wrong PINs in
supervisor approvals are read the same way (:mod:`appliance.counter.pin_limits`).
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

from appliance.counter import pin_limits
from appliance.counter.cashier import LIST_CASHIERS_SQL, ApprovalRequest, CashierCard, cards
from appliance.counter.clock import on_the_minute, store_time
from appliance.store import journal
from appliance.store.journal import JournalKind
from appliance.store.models import Cashier, JournalEntry

MAX_FAILURES = 5
LOCK_MINUTES = 5


class Outcome(StrEnum):
    OK = "ok"
    WRONG_PIN = "wrong_pin"
    LOCKED = "locked"  # this cashier, after MAX_FAILURES wrong PINs
    PAUSED = "paused"  # every sign-in at this till (pin_limits.TILL)
    BLOCKED = "blocked"  # this cashier's approval requests (pin_limits.APPROVAL)
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
        if data.get("reason") != Outcome.WRONG_PIN:
            continue  # tries while locked or paused do not count again
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


def authenticate(
    read: Session,
    write: Session,
    user: str,
    pin: str,
    *,
    now: datetime | None = None,
    time_zone: str = "",
) -> AuthResult:
    """Check ``user``'s PIN to sign in, and journal the attempt in ``write`` (the caller commits).

    Refused without looking at the PIN while the till-wide pause lasts (:mod:`pin_limits`) or
    the cashier is locked. ``time_zone``: the store's, for the times said on screen.
    """
    now = now or datetime.now(UTC)
    row = read.get(Cashier, user)
    if row is None or not row.enabled:
        return AuthResult(Outcome.UNKNOWN, f"{user} may not sign in at this till")
    who = card(row)
    base: dict[str, Any] = {"purpose": "sign_in"}

    def failed(data: dict[str, Any]) -> None:
        journal.append(write, JournalKind.SIGN_IN_FAILED, user, None, {**base, **data}, at=now)

    paused = pin_limits.till_pause(read, now)
    if paused.until is not None:
        failed({"reason": Outcome.PAUSED})
        return _waiting(Outcome.PAUSED, paused.until, time_zone)
    state = current_lock(read, user, now)
    if state.locked_until is not None:
        failed({"reason": Outcome.LOCKED})
        return _locked(who, state.locked_until, time_zone)
    pin_hash = row.pin_hash
    read.rollback()  # do not hold the read snapshot through the slow hash
    if verify_pin(pin_hash, pin):
        journal.append(write, JournalKind.SIGN_IN, user, None, {**base, "role": who.role}, at=now)
        return AuthResult(Outcome.OK, f"Welcome, {who.full_name}", who)
    # Count again inside the write transaction: a second till may have failed meanwhile.
    state = current_lock(write, user, now)
    failures = state.failures + 1
    data: dict[str, Any] = {"reason": Outcome.WRONG_PIN, "failures": failures}
    ends = on_the_minute(now + timedelta(minutes=LOCK_MINUTES))  # "until 05:52" ends at 05:52
    if failures >= MAX_FAILURES:
        data["locked_until"] = ends.isoformat()
    failed(data)
    till = pin_limits.till_pause(write, now)  # this failure included
    if till.failures >= pin_limits.TILL_MAX_FAILURES:
        until = pin_limits.TILL.until(now)
        journal.append(
            write,
            JournalKind.SIGN_IN_PAUSED,
            pin_limits.TILL_ACTOR,
            None,
            {
                "until": until.isoformat(),
                "failures": till.failures,
                "window_minutes": pin_limits.TILL_WINDOW_MINUTES,
                "last_user": user,
            },
            at=now,
        )
        return _waiting(Outcome.PAUSED, until, time_zone, "Wrong PIN. ")
    if failures >= MAX_FAILURES:
        return AuthResult(
            Outcome.LOCKED,
            f"Wrong PIN. {who.full_name} is locked for {LOCK_MINUTES} minutes "
            f"(until {store_time(ends, time_zone)})",
            locked_until=ends,
        )
    return _tries_left("Wrong PIN", MAX_FAILURES - failures)


_WAITS = {
    Outcome.PAUSED: (
        f"Sign-in is paused after {pin_limits.TILL_MAX_FAILURES} wrong PINs at this till"
    ),
    Outcome.BLOCKED: (
        f"Approvals are paused after {pin_limits.APPROVAL_MAX_FAILURES} wrong supervisor PINs"
    ),
}


def _waiting(outcome: Outcome, until: datetime, time_zone: str, prefix: str = "") -> AuthResult:
    """The till-wide sign-in pause or a cashier's approval block, with its end."""
    text = f"{prefix}{_WAITS[outcome]}, until {store_time(until, time_zone)}"
    return AuthResult(outcome, text, locked_until=until)


def _locked(who: CashierCard, until: datetime, time_zone: str) -> AuthResult:
    return AuthResult(
        Outcome.LOCKED,
        f"{who.full_name} is locked after {MAX_FAILURES} wrong PINs until "
        f"{store_time(until, time_zone)}",
        locked_until=until,
    )


def _tries_left(what: str, left: int) -> AuthResult:
    return AuthResult(Outcome.WRONG_PIN, f"{what}: {left} tr{'y' if left == 1 else 'ies'} left")


def approve(
    read: Session,
    write: Session,
    supervisor: str,
    pin: str,
    request: ApprovalRequest,
    *,
    now: datetime | None = None,
    time_zone: str = "",
) -> AuthResult:
    """A supervisor's PIN allows what the asking cashier's role does not; journaled as an
    override.

    A wrong PIN here counts against ``request.cashier`` (:func:`pin_limits.approval_block`), never
    against the supervisor's own sign-in. A supervisor already locked out (by wrong PINs at
    sign-in) cannot approve either, so the dialog is no way around that lock.
    """
    now = now or datetime.now(UTC)
    cashier = request.cashier
    base = {"supervisor": supervisor, "action": request.action}

    def failed(data: dict[str, Any]) -> None:
        journal.append(write, JournalKind.APPROVAL_FAILED, cashier, None, {**base, **data}, at=now)

    blocked = pin_limits.approval_block(read, cashier, now)
    if blocked.until is not None:
        failed({"reason": Outcome.BLOCKED})
        return _waiting(Outcome.BLOCKED, blocked.until, time_zone)
    row = read.get(Cashier, supervisor)
    if row is None or not row.enabled or not card(row).supervises:
        return AuthResult(Outcome.UNKNOWN, f"{supervisor} may not approve at this till")
    who = card(row)
    locked = current_lock(read, supervisor, now).locked_until
    if locked is not None:
        failed({"reason": Outcome.LOCKED})
        return _locked(who, locked, time_zone)
    pin_hash = row.pin_hash
    read.rollback()  # do not hold the read snapshot through the slow hash
    if verify_pin(pin_hash, pin):
        journal.append(
            write,
            JournalKind.OVERRIDE,
            supervisor,
            None,
            {
                "action": request.action,
                "cashier": cashier,
                "reason": request.reason,
                **request.detail,
            },
            at=now,
        )
        return AuthResult(Outcome.OK, f"Approved by {who.full_name}", who)
    failures = pin_limits.approval_block(write, cashier, now).failures + 1
    failed({"reason": Outcome.WRONG_PIN, "failures": failures})
    if failures >= pin_limits.APPROVAL_MAX_FAILURES:
        until = pin_limits.APPROVAL.until(now)
        journal.append(
            write,
            JournalKind.APPROVAL_BLOCKED,
            cashier,
            None,
            {**base, "until": until.isoformat(), "failures": failures},
            at=now,
        )
        return _waiting(Outcome.BLOCKED, until, time_zone, "Wrong PIN. ")
    return _tries_left("Wrong supervisor PIN", pin_limits.APPROVAL_MAX_FAILURES - failures)


def supervisors(cashiers: Sequence[CashierCard]) -> list[CashierCard]:
    return [c for c in cashiers if c.supervises]

"""Signing in and out, and a supervisor's approval: the counter's people use cases.

PINs are checked by ``appliance.counter.auth`` (Argon2, lockout); this module gives them their
transactions and journals what the screens used to journal themselves (sign-outs).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from appliance.counter import auth
from appliance.counter.auth import AuthResult
from appliance.counter.cashier import ApprovalRequest, CashierCard
from appliance.store import journal
from appliance.store.db import unit_of_work
from appliance.store.journal import JournalKind


def list_cashiers(read: sessionmaker[Session]) -> list[CashierCard]:
    with read() as session:
        return auth.list_cashiers(session)


def sign_in(
    read: sessionmaker[Session],
    write: sessionmaker[Session],
    user: str,
    pin: str,
    *,
    time_zone: str,
) -> AuthResult:
    with read() as session, unit_of_work(write) as uow:
        result = auth.authenticate(session, uow.session, user, pin, time_zone=time_zone)
        uow.commit()
    return result


def approve(
    read: sessionmaker[Session],
    write: sessionmaker[Session],
    supervisor: str,
    pin: str,
    request: ApprovalRequest,
    *,
    time_zone: str,
) -> AuthResult:
    """A supervisor's PIN allows what the cashier's role does not; journaled as an override.

    Wrong PINs count against the asking cashier, never the supervisor (`auth.approve`).
    """
    with read() as session, unit_of_work(write) as uow:
        result = auth.approve(session, uow.session, supervisor, pin, request, time_zone=time_zone)
        uow.commit()
    return result


def sign_out(write: sessionmaker[Session], user: str, reason: str) -> None:
    """Journal a sign-out (the cashier's own, a lock-out's, a supervisor's shut-down)."""
    with unit_of_work(write) as uow:
        journal.append(uow.session, JournalKind.SIGN_OUT, user, None, {"reason": reason})
        uow.commit()

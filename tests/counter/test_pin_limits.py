"""PIN guessing limits at the use-case level, on a real SQLite store with the demo's cashiers.

- Till-wide: wrong PINs across all cashiers (each below their own lock-out) pause every
  sign-in for a while; the pause is journaled and its end said in the store's time zone.
- Approvals: wrong supervisor PINs typed into the approval dialog count against the cashier
  who asked, block that cashier's approvals for a while, and never lock the supervisor out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from appliance.counter import auth, pin_limits
from appliance.counter.auth import AuthResult, Outcome
from appliance.counter.cashier import ApprovalRequest
from appliance.counter.clock import on_the_minute
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.journal import verify
from appliance.store.models import JournalEntry

ANA, BO, CY = "ana@example.com", "bo@example.com", "cy@example.com"  # Bo supervises
PINS = {ANA: "1234", BO: "9999", CY: "5678"}
STORE_ZONE = "America/Vancouver"  # the demo POS Profile's (ERPNext System Settings)
T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


class Till:
    def __init__(self, db: Path) -> None:
        engine = create_db_engine(db)
        self.read = make_session_factory(engine, read_only=True)
        self.write = make_session_factory(engine)

    def sign_in(self, user: str, pin: str, now: datetime) -> AuthResult:
        with self.read() as read, unit_of_work(self.write) as uow:
            result = auth.authenticate(read, uow.session, user, pin, now=now, time_zone=STORE_ZONE)
            uow.commit()
        return result

    def approve(self, cashier: str, pin: str, now: datetime) -> AuthResult:
        with self.read() as read, unit_of_work(self.write) as uow:
            request = ApprovalRequest(cashier, "no_sale", "float check")
            result = auth.approve(
                read, uow.session, BO, pin, request, now=now, time_zone=STORE_ZONE
            )
            uow.commit()
        return result

    def journal(self, kind: str) -> list[JournalEntry]:
        with self.read() as session:
            rows = select(JournalEntry).where(JournalEntry.kind == kind).order_by(JournalEntry.seq)
            return list(session.scalars(rows))


def _store_time(at: datetime) -> str:
    return at.astimezone(ZoneInfo(STORE_ZONE)).strftime("%H:%M")


def test_wrong_pins_across_cashiers_pause_every_sign_in(data_dir: Path) -> None:
    till = Till(data_dir / "pos.db")
    # Four, four and two: nobody reaches their own limit of five.
    guesses = [ANA] * 4 + [CY] * 4 + [BO] * 2
    assert len(guesses) == pin_limits.TILL_MAX_FAILURES
    for n, user in enumerate(guesses):
        result = till.sign_in(user, "0000", T0 + timedelta(seconds=20 * n))
    last = T0 + timedelta(seconds=20 * (len(guesses) - 1))
    ends = last + timedelta(minutes=pin_limits.TILL_PAUSE_MINUTES)
    assert result.outcome is Outcome.PAUSED
    assert result.locked_until == ends
    assert f"until {_store_time(ends)}" in result.message

    (paused,) = till.journal("sign_in_paused")
    data = json.loads(paused.data)
    assert data["until"] == ends.isoformat() and data["failures"] == pin_limits.TILL_MAX_FAILURES

    # The supervisor's right PIN does not open the till while the pause lasts...
    during = till.sign_in(BO, PINS[BO], ends - timedelta(seconds=1))
    assert during.outcome is Outcome.PAUSED and f"until {_store_time(ends)}" in during.message
    assert not till.journal("sign_in")
    # ...and does once it is over; nobody is locked on their own.
    assert till.sign_in(BO, PINS[BO], ends + timedelta(seconds=1)).ok
    assert till.sign_in(ANA, PINS[ANA], ends + timedelta(seconds=2)).ok
    with till.read() as session:
        assert verify(session).intact


def test_wrong_pins_spread_beyond_the_window_do_not_pause(data_dir: Path) -> None:
    till = Till(data_dir / "pos.db")
    window = timedelta(minutes=pin_limits.TILL_WINDOW_MINUTES)
    for n in range(pin_limits.TILL_MAX_FAILURES - 1):
        till.sign_in([ANA, CY][n % 2], "0000", T0 + timedelta(seconds=n))
    later = T0 + window + timedelta(seconds=10)  # the first ones have left the window
    assert till.sign_in(BO, "0000", later).outcome is Outcome.WRONG_PIN
    assert till.sign_in(BO, PINS[BO], later + timedelta(seconds=1)).ok
    assert not till.journal("sign_in_paused")


def test_wrong_approval_pins_block_the_asking_cashier_not_the_supervisor(
    data_dir: Path,
) -> None:
    till = Till(data_dir / "pos.db")
    results = [
        till.approve(ANA, "0000", T0 + timedelta(seconds=n))
        for n in range(pin_limits.APPROVAL_MAX_FAILURES)
    ]
    assert [r.outcome for r in results[:-1]] == [Outcome.WRONG_PIN] * (len(results) - 1)
    blocked = results[-1]
    # The block ends on the whole minute it is said to end on.
    ends = on_the_minute(
        T0 + timedelta(seconds=len(results) - 1, minutes=pin_limits.APPROVAL_BLOCK_MINUTES)
    )
    assert blocked.outcome is Outcome.BLOCKED and blocked.locked_until == ends
    assert f"until {_store_time(ends)}" in blocked.message

    # Even the right PIN is refused for Ana's approvals while the block lasts...
    again = till.approve(ANA, PINS[BO], T0 + timedelta(minutes=1))
    assert again.outcome is Outcome.BLOCKED and not till.journal("override")
    # ...but keep going for as long as she likes: Bo is never locked out of his own sign-in,
    for n in range(10):
        till.approve(ANA, "0000", T0 + timedelta(minutes=2, seconds=n))
    assert till.sign_in(BO, PINS[BO], T0 + timedelta(minutes=3)).ok
    # another cashier may still ask him,
    assert till.approve(CY, PINS[BO], T0 + timedelta(minutes=4)).ok
    # and Ana may again once the block is over.
    assert till.approve(ANA, PINS[BO], ends + timedelta(seconds=1)).ok

    failed = till.journal("approval_failed")
    assert {e.actor for e in failed} == {ANA}
    assert all(json.loads(e.data)["supervisor"] == BO for e in failed)
    assert not [e for e in till.journal("sign_in_failed") if e.actor == BO]
    (block,) = till.journal("approval_blocked")
    assert block.actor == ANA and json.loads(block.data)["until"] == ends.isoformat()
    assert [json.loads(e.data)["cashier"] for e in till.journal("override")] == [CY, ANA]

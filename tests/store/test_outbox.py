"""Outbox states move only as allowed, and a stuck document blocks only what depends on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from appliance.store import outbox
from appliance.store.db import unit_of_work
from appliance.store.models import OutboxState
from appliance.store.outbox import OutboxStateError


def _offline_ids(session: Session) -> list[str]:
    return [e.offline_id for e in outbox.sendable(session)]


def test_dependencies_gate_sending(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        s = uow.session
        opening = outbox.enqueue(s, "POS Opening Entry", "open", "{}")
        sale = outbox.enqueue(s, "POS Invoice", "sale", "{}", [opening])
        customer = outbox.enqueue(s, "Customer", "cust", "{}")
        other = outbox.enqueue(s, "POS Invoice", "other", "{}", [opening, customer])
        assert _offline_ids(s) == ["open", "cust"]

        outbox.mark_in_flight(s, opening)
        outbox.mark_done(s, opening, "POS-OPE-2025-00001")
        assert _offline_ids(s) == ["sale", "cust"]

        # ERPNext refuses the customer: its sale waits, the unrelated sale goes on.
        outbox.mark_in_flight(s, customer)
        outbox.quarantine(s, customer, "MandatoryError: customer_type")
        assert _offline_ids(s) == ["sale"]
        assert customer.last_error == "MandatoryError: customer_type"

        outbox.release(s, customer)
        outbox.mark_in_flight(s, customer)
        outbox.mark_done(s, customer, "CUST-2025-00007")
        assert _offline_ids(s) == ["sale", "other"]
        assert {d.offline_id for d in other.depends_on} == {"open", "cust"}
        assert sale.attempts == 0 and opening.attempts == 0  # claims are no answers


def test_transient_failure_backs_off(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        s = uow.session
        entry = outbox.enqueue(s, "Customer", "c", "{}")
        outbox.mark_in_flight(s, entry)
        later = datetime.now(UTC) + timedelta(minutes=5)
        outbox.mark_failed(s, entry, "timeout", later)
        assert entry.state is OutboxState.READY and _offline_ids(s) == []
        entry.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
        s.flush()
        assert _offline_ids(s) == ["c"]


def test_in_flight_is_reset_at_start_up(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        entry = outbox.enqueue(uow.session, "Customer", "c", "{}")
        outbox.mark_in_flight(uow.session, entry)
        uow.commit()
    with unit_of_work(factory) as uow:
        assert outbox.reset_in_flight(uow.session) == 1
        uow.commit()
    with unit_of_work(factory) as uow:
        found = outbox.find_entry(uow.session, "Customer", "c")
        assert found is not None and found.state is OutboxState.READY


def test_illegal_moves_are_refused(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        s = uow.session
        entry = outbox.enqueue(s, "Customer", "c", "{}")
        with pytest.raises(OutboxStateError, match="expected QUARANTINED"):
            outbox.release(s, entry)
        outbox.mark_in_flight(s, entry)
        outbox.mark_done(s, entry, "CUST-1")
        with pytest.raises(OutboxStateError):
            outbox.mark_in_flight(s, entry)


def test_enqueue_row_matches_enqueue(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        s = uow.session
        opening = outbox.enqueue(s, "POS Opening Entry", "open", "{}")
        customer = outbox.enqueue(s, "Customer", "cust", "{}")
        deps = [opening.id, customer.id, opening.id]  # repeats go in once
        entry_id = outbox.enqueue_row(s, "POS Invoice", "sale", '{"a":1}', deps)
        uow.commit()
    with unit_of_work(factory) as uow:
        s = uow.session
        row = outbox.find_entry(s, "POS Invoice", "sale")
        same = outbox.find_entry(s, "Customer", "cust")
        assert row is not None and same is not None and row.id == entry_id
        assert (row.state, row.attempts, row.payload) == (OutboxState.READY, 0, '{"a":1}')
        assert row.created_at.tzinfo is not None and row.updated_at >= row.created_at
        assert (row.last_error, row.erpnext_name, row.next_attempt_at) == (None, None, None)
        assert [d.offline_id for d in sorted(row.depends_on, key=lambda d: d.id)] == [
            "open",
            "cust",
        ]
        assert _offline_ids(s) == ["open", "cust"]

"""Committing sales, returns and shifts: atomic, idempotent, numbered, queued in order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.store import jsonutil
from appliance.store.customers import OfflineCustomer, create_offline_customer
from appliance.store.db import unit_of_work
from appliance.store.journal import verify
from appliance.store.models import (
    JournalEntry,
    OutboxDependency,
    OutboxEntry,
    OutboxState,
    PosClosingEntry,
    PosInvoice,
    PosInvoiceItem,
    ShiftStatus,
)
from appliance.store.receipts import give_back_receipt_no, next_receipt_no
from appliance.store.sales import SaleError, commit_sale, find_sale
from appliance.store.shifts import Reconciliation, ShiftClosing, ShiftError, close_shift
from tests.store.factories import (
    CASHIER,
    TERMINAL,
    commit_one,
    new_id,
    open_test_shift,
    return_draft,
    sale_draft,
)


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _deps(session: Session, entry_id: int) -> set[tuple[str, str]]:
    rows = session.execute(
        select(OutboxEntry.doctype, OutboxEntry.offline_id)
        .join(OutboxDependency, OutboxDependency.depends_on_id == OutboxEntry.id)
        .where(OutboxDependency.entry_id == entry_id)
    )
    return {(d, o) for d, o in rows}


def test_sale_is_written_with_rows_outbox_and_journal(
    factory: sessionmaker[Session], shift: str
) -> None:
    result = commit_one(factory, shift, n_lines=3)
    assert result.created and result.receipt_no == "T01-000001"
    with unit_of_work(factory) as uow:
        s = uow.session
        sale = find_sale(s, result.offline_id)
        assert sale is not None
        assert len(sale.items) == 3 and len(sale.taxes) == 2 and len(sale.payments) == 1
        assert sale.shift.offline_id == shift and sale.status.value == "Paid"
        assert sum((i.amount for i in sale.items), Decimal(0)) == sale.total
        assert sale.paid_amount == sale.payments[0].amount
        entry = s.get(OutboxEntry, result.outbox_entry_id)
        assert entry is not None and entry.state is OutboxState.READY
        assert entry.doctype == "POS Invoice" and entry.payload == sale.payload
        assert jsonutil.loads(entry.payload)["offline_id"] == result.offline_id
        assert _deps(s, entry.id) == {("POS Opening Entry", shift)}
        record = s.get(JournalEntry, result.journal_seq)
        assert record is not None and record.kind == "sale" and record.ref == result.offline_id
        assert record.actor == CASHIER
        assert verify(s).intact


def test_payload_keeps_exact_decimal_digits(factory: sessionmaker[Session], shift: str) -> None:
    with unit_of_work(factory) as uow:
        draft = sale_draft(shift, next_receipt_no(uow.session, TERMINAL))
        draft = type(draft)(**{**draft.__dict__, "payload": {"x": Decimal("1.10"), "y": 2}})
        commit_sale(uow.session, draft)
        uow.commit()
    with unit_of_work(factory) as uow:
        sale = find_sale(uow.session, draft.offline_id)
        assert sale is not None and sale.payload == '{"x":1.10,"y":2}'


def test_exception_before_commit_leaves_nothing(factory: sessionmaker[Session], shift: str) -> None:
    with pytest.raises(RuntimeError), unit_of_work(factory) as uow:
        receipt = next_receipt_no(uow.session, TERMINAL)
        commit_sale(uow.session, sale_draft(shift, receipt))
        uow.session.flush()
        raise RuntimeError("printer on fire before commit")
    with unit_of_work(factory) as uow:
        s = uow.session
        assert _count(s, PosInvoice) == 0 and _count(s, PosInvoiceItem) == 0
        assert _count(s, OutboxEntry) == 1  # only the shift's opening entry
        assert [e.kind for e in s.scalars(select(JournalEntry))] == ["shift_open"]
    # The rolled-back sale's receipt number is handed out again: no gap.
    assert commit_one(factory, shift).receipt_no == "T01-000001"


def test_recommit_same_offline_id_is_idempotent(factory: sessionmaker[Session], shift: str) -> None:
    offline_id = new_id()
    first = commit_one(factory, shift, offline_id=offline_id)
    again = commit_one(factory, shift, offline_id=offline_id)
    assert not again.created
    assert (again.sale_id, again.outbox_entry_id, again.journal_seq, again.receipt_no) == (
        first.sale_id,
        first.outbox_entry_id,
        first.journal_seq,
        first.receipt_no,
    )
    with unit_of_work(factory) as uow:
        assert _count(uow.session, PosInvoice) == 1
        assert _count(uow.session, OutboxEntry) == 2  # opening + one sale
    # The number allocated for the replay went back: the next sale continues the sequence.
    assert commit_one(factory, shift).receipt_no == "T01-000002"


def test_receipt_numbers_are_sequential_per_terminal(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        got = [next_receipt_no(uow.session, t) for t in ("T01", "T01", "T02", "T01")]
        uow.commit()
    assert got == ["T01-000001", "T01-000002", "T02-000001", "T01-000003"]
    with unit_of_work(factory) as uow, pytest.raises(ValueError, match="terminal id"):
        next_receipt_no(uow.session, "T 1")


def test_sale_needs_an_open_shift(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow, pytest.raises(SaleError, match="no shift"):
        commit_sale(uow.session, sale_draft(new_id(), "T01-000001"))


def test_draft_rejects_inconsistent_totals(shift: str) -> None:
    draft = sale_draft(shift, "T01-000001")
    with pytest.raises(SaleError, match="UUID"):
        type(draft)(**{**draft.__dict__, "offline_id": draft.offline_id.upper()})
    bad_totals = type(draft.totals)(**{**draft.totals.__dict__, "paid_amount": Decimal("0.01")})
    with pytest.raises(SaleError, match="payments add up"):
        type(draft)(**{**draft.__dict__, "totals": bad_totals})
    with pytest.raises(SaleError, match="return_against"):
        type(draft)(**{**draft.__dict__, "return_against": new_id()})


def test_return_depends_on_original(factory: sessionmaker[Session], shift: str) -> None:
    original = commit_one(factory, shift)
    with unit_of_work(factory) as uow:
        s = uow.session
        sale = find_sale(s, original.offline_id)
        assert sale is not None
        draft = return_draft(shift, next_receipt_no(s, TERMINAL), sale)
        result = commit_sale(s, draft)
        uow.commit()
    with unit_of_work(factory) as uow:
        s = uow.session
        ret = find_sale(s, result.offline_id)
        assert ret is not None and ret.is_return and ret.status.value == "Return"
        assert (
            ret.return_against is not None and ret.return_against.offline_id == original.offline_id
        )
        assert [i.original_item_id for i in ret.items] == [i.id for i in ret.return_against.items]
        assert ret.grand_total < 0 and ret.paid_amount < 0
        assert _deps(s, result.outbox_entry_id) == {
            ("POS Opening Entry", shift),
            ("POS Invoice", original.offline_id),
        }
        record = s.get(JournalEntry, result.journal_seq)
        assert record is not None and record.kind == "return"


def test_return_against_unknown_or_other_customer_is_refused(
    factory: sessionmaker[Session], shift: str
) -> None:
    original = commit_one(factory, shift)
    with unit_of_work(factory) as uow:
        sale = find_sale(uow.session, original.offline_id)
        assert sale is not None
        draft = return_draft(shift, "T01-000009", sale)
        with pytest.raises(SaleError, match="unknown sale"):
            commit_sale(uow.session, type(draft)(**{**draft.__dict__, "return_against": new_id()}))
        with pytest.raises(SaleError, match="differs"):
            commit_sale(uow.session, type(draft)(**{**draft.__dict__, "customer": "Someone"}))


def test_a_refused_return_writes_nothing(factory: sessionmaker[Session], shift: str) -> None:
    # Everything is checked before the first insert, so a caller that catches the error and
    # goes on in the same transaction does not commit half a sale.
    first = commit_one(factory, shift)
    second = commit_one(factory, shift)
    with unit_of_work(factory) as uow:
        s = uow.session
        sale = find_sale(s, first.offline_id)
        other = find_sale(s, second.offline_id)
        assert sale is not None and other is not None
        draft = return_draft(shift, next_receipt_no(s, TERMINAL), sale)
        foreign = (other.items[0].id, *draft.original_item_ids[1:])
        with pytest.raises(SaleError, match="is not a line of sale"):
            commit_sale(s, type(draft)(**{**draft.__dict__, "original_item_ids": foreign}))
        assert _count(s, PosInvoice) == 2 and _count(s, OutboxEntry) == 3
        assert _count(s, JournalEntry) == 3  # shift_open and the two sales
        assert find_sale(s, draft.offline_id) is None


def test_only_the_latest_unused_receipt_number_goes_back(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as uow:
        s = uow.session
        first, second = next_receipt_no(s, TERMINAL), next_receipt_no(s, TERMINAL)
        assert not give_back_receipt_no(s, first)  # not the latest
        assert not give_back_receipt_no(s, "T02-000001")  # no such terminal
        assert not give_back_receipt_no(s, "junk")
        assert give_back_receipt_no(s, second)
        assert next_receipt_no(s, TERMINAL) == second
        uow.commit()


def test_sale_to_offline_customer_waits_for_it(factory: sessionmaker[Session], shift: str) -> None:
    customer_id = new_id()
    with unit_of_work(factory) as uow:
        create_offline_customer(
            uow.session,
            OfflineCustomer(
                offline_id=customer_id,
                customer_name="New Person",
                created_by=CASHIER,
                payload={"doctype": "Customer", "customer_name": "New Person"},
            ),
        )
        uow.commit()
    result = commit_one(factory, shift, customer=customer_id)
    with unit_of_work(factory) as uow:
        assert _deps(uow.session, result.outbox_entry_id) == {
            ("POS Opening Entry", shift),
            ("Customer", customer_id),
        }


def test_close_shift_waits_for_its_sales(factory: sessionmaker[Session], shift: str) -> None:
    sales = [commit_one(factory, shift) for _ in range(3)]
    closing_id = new_id()
    closing = ShiftClosing(
        offline_id=closing_id,
        shift_offline_id=shift,
        user=CASHIER,
        period_end=datetime(2025, 3, 1, 18, 0, 0),
        payment_reconciliation=(
            Reconciliation("Cash", Decimal("100.00"), Decimal("150.00"), Decimal("149.50")),
        ),
        payload={"doctype": "POS Closing Entry", "offline_id": closing_id},
    )
    with unit_of_work(factory) as uow:
        done = close_shift(uow.session, closing)
        again = close_shift(uow.session, closing)
        uow.commit()
    assert done.created and not again.created and again.outbox_entry_id == done.outbox_entry_id
    with unit_of_work(factory) as uow:
        s = uow.session
        assert _deps(s, done.outbox_entry_id) == {("POS Opening Entry", shift)} | {
            ("POS Invoice", r.offline_id) for r in sales
        }
        row = s.scalars(select(PosClosingEntry)).one()
        assert row.opening.status is ShiftStatus.CLOSED
        assert row.payment_reconciliation[0].difference == Decimal("-0.50")
        with pytest.raises(SaleError, match="not Open"):
            commit_sale(s, sale_draft(shift, "T01-000099"))
        with pytest.raises(ShiftError, match="not Open"):
            close_shift(s, type(closing)(**{**closing.__dict__, "offline_id": new_id()}))
    # A new shift can open once the old one is closed; a second open one cannot.
    open_test_shift(factory)
    with pytest.raises(ShiftError, match="already open"):
        open_test_shift(factory)

"""What the counter reports: the status bar's facts, and the X/Z report as it is printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.problems import problem_of
from appliance.counter.cashier import CashierCard
from appliance.drivers.printer.receipt import PaymentSummary, ReceiptTax, ShiftReport, StoreHeader
from appliance.sales.shift import ShiftReport as ShiftTotals
from appliance.store import sync_state
from appliance.store.models import OutboxEntry, OutboxState, PosOpeningEntry


@dataclass(frozen=True)
class Status:
    """What the status bar shows; read every few seconds."""

    shift_open: bool
    unsynced: int
    quarantined: int
    last_sync: datetime | None = None
    link: str = "unknown"  # the sync agent's view of ERPNext: up, down, stopped, unknown
    problem: str = ""  # the named sync failure, if any ("request too large" ...)


def status(read: sessionmaker[Session], *, shift_open: bool) -> Status:
    with read() as session:
        counts = dict(
            session.execute(
                select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)
            ).all()
        )
        last = session.scalar(
            select(func.max(OutboxEntry.updated_at)).where(OutboxEntry.state == OutboxState.DONE)
        )
        link = sync_state.link_state(session)
        problem = problem_of(sync_state.read_state(session).get("last_error"))
    unsynced = sum(n for s, n in counts.items() if s != OutboxState.DONE)
    return Status(
        shift_open=shift_open,
        unsynced=int(unsynced),
        quarantined=int(counts.get(OutboxState.QUARANTINED, 0)),
        last_sync=last.replace(tzinfo=UTC) if last else None,
        link=link.value,
        problem=problem or "",
    )


def full_name(cashiers: list[CashierCard], user: str) -> str:
    return next((c.full_name for c in cashiers if c.user == user), user)


def printed_report(
    read: sessionmaker[Session],
    totals: ShiftTotals,
    *,
    company: str,
    terminal_id: str,
    cashier: str,
    unsynced: int,
    closing: bool,
    shift: str = "",
) -> ShiftReport:
    """The X (``closing`` False) or Z report of the shift's ``totals``, as the printer takes it."""
    with read() as session:
        opened = session.scalar(
            select(PosOpeningEntry.period_start_date).order_by(PosOpeningEntry.id.desc()).limit(1)
        )
    return ShiftReport(
        store=StoreHeader(company),
        terminal_id=terminal_id,
        cashier=cashier,
        opened_at=opened or datetime.now(),
        printed_at=datetime.now(),
        invoice_count=totals.sales_count,
        return_count=totals.returns_count,
        net_total=totals.net_total,
        total_taxes=sum((t.amount for t in totals.taxes), Decimal(0)),
        grand_total=totals.grand_total,
        returns_total=Decimal(0),
        taxes=tuple(ReceiptTax(t.account_head, t.rate, t.amount) for t in totals.taxes),
        payments=tuple(
            PaymentSummary(m.mode_of_payment, m.expected_amount, m.closing_amount)
            for m in totals.modes
        ),
        opening_float=sum((m.opening_amount for m in totals.modes), Decimal(0)),
        unsynced_count=unsynced,
        closing=closing,
        shift_name=shift,
    )

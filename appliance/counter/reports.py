"""What the counter reports: the status bar's facts, and the X/Z report as it is printed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.problems import problem_of
from appliance.agent.shift_notices import shift_problem
from appliance.counter.cashier import CashierCard
from appliance.counter.selling import NO_SALE
from appliance.drivers.printer.receipt import PaymentSummary, ReceiptTax, ShiftReport, StoreHeader
from appliance.sales.model import ChargeType
from appliance.sales.shift import ShiftReport as ShiftTotals
from appliance.sales.shift import TaxLineTotal
from appliance.store import sync_state
from appliance.store.journal import JournalKind
from appliance.store.models import (
    JournalEntry,
    OutboxEntry,
    OutboxState,
    PosInvoice,
    PosInvoiceItem,
    PosInvoiceTax,
    PosOpeningEntry,
)


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
        values = sync_state.read_state(session)
        shift = shift_problem(values)  # ERPNext holds the shift: say so first
        problem = shift.short if shift else problem_of(values.get("last_error"))
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


def _tax_name(description: str, account_head: str) -> str:
    """The tax's name as ERPNext prints it: the row's description, else the account's name
    without the company's abbreviation ("GST Payable - PPC" is GST Payable)."""
    if description and description != account_head:
        return description
    return account_head.rsplit(" - ", 1)[0]


@dataclass(frozen=True)
class _TaxWords:
    name: str
    per_unit: bool
    unit: str  # a per-unit levy's one unit across the shift ("Litre"), else ""


def _tax_words(session: Session, shift: PosOpeningEntry) -> dict[str, _TaxWords]:
    """Per account head, how the shift's own sales named the tax and what a levy was per."""
    rows = session.execute(
        select(
            PosInvoiceTax.account_head,
            PosInvoiceTax.description,
            PosInvoiceTax.charge_type,
            PosInvoiceTax.item_wise_tax_detail,
            PosInvoiceTax.invoice_id,
        )
        .join(PosInvoice, PosInvoice.id == PosInvoiceTax.invoice_id)
        .where(PosInvoice.shift_id == shift.id)
        .order_by(PosInvoiceTax.id)
    ).all()
    uoms = {
        (invoice, code): uom
        for invoice, code, uom in session.execute(
            select(PosInvoiceItem.invoice_id, PosInvoiceItem.item_code, PosInvoiceItem.uom)
            .join(PosInvoice, PosInvoice.id == PosInvoiceItem.invoice_id)
            .where(PosInvoice.shift_id == shift.id)
        )
    }
    names: dict[str, str] = {}
    units: dict[str, set[str]] = {}
    for account, description, charge_type, detail, invoice in rows:
        names[account] = _tax_name(description, account)
        if charge_type == ChargeType.ON_ITEM_QUANTITY:
            charged = units.setdefault(account, set())
            for code, (_, amount) in json.loads(detail or "{}").items():
                if amount and (invoice, code) in uoms:
                    charged.add(uoms[(invoice, code)])
    return {
        account: _TaxWords(
            name,
            account in units,
            next(iter(units[account])) if len(units.get(account, ())) == 1 else "",
        )
        for account, name in names.items()
    }


def _no_sales(session: Session, shift: PosOpeningEntry) -> int:
    """Drawer openings without a sale during the shift, as the drawer journaled them: between
    the shift's opening and (once closed) its closing in the journal."""
    opened = session.scalar(
        select(JournalEntry.seq).where(
            JournalEntry.kind == JournalKind.SHIFT_OPEN, JournalEntry.ref == shift.offline_id
        )
    )
    query = select(JournalEntry.data).where(
        JournalEntry.kind == JournalKind.DRAWER_OPEN, JournalEntry.seq > (opened or 0)
    )
    if shift.closing is not None:
        closed = session.scalar(
            select(JournalEntry.seq).where(
                JournalEntry.kind == JournalKind.SHIFT_CLOSE,
                JournalEntry.ref == shift.closing.offline_id,
            )
        )
        if closed is not None:
            query = query.where(JournalEntry.seq < closed)
    return sum(1 for data in session.scalars(query) if json.loads(data).get("reason") == NO_SALE)


def printed_report(
    read: sessionmaker[Session],
    totals: ShiftTotals,
    *,
    company: str,
    terminal_id: str,
    cashier: str,
    unsynced: int,
    closing: bool,
    now: datetime,
    shift: str = "",
) -> ShiftReport:
    """The X (``closing`` False) or Z report of the shift's ``totals``, as the printer takes it.

    ``totals`` are the shift's sales as stored (`Checkout.shift_report`); the tax names, what a
    levy is charged per and the no-sale drawer openings are read here from the same shift.
    """
    with read() as session:
        row = session.scalar(select(PosOpeningEntry).order_by(PosOpeningEntry.id.desc()).limit(1))
        words = _tax_words(session, row) if row is not None else {}
        no_sales = _no_sales(session, row) if row is not None else 0
        opened = row.period_start_date if row is not None else None

    def tax(t: TaxLineTotal) -> ReceiptTax:
        w = words.get(t.account_head) or _TaxWords(_tax_name("", t.account_head), False, "")
        return ReceiptTax(w.name, t.rate, t.amount, per_unit=w.per_unit, unit=w.unit)

    return ShiftReport(
        store=StoreHeader(company),
        terminal_id=terminal_id,
        cashier=cashier,
        # The store's clock (``now``), as the shift's opening and the receipts (counter/clock.py).
        opened_at=opened or now,
        printed_at=now,
        invoice_count=totals.sales_count,
        return_count=totals.returns_count,
        net_total=totals.net_total,
        total_taxes=sum((t.amount for t in totals.taxes), Decimal(0)),
        grand_total=totals.grand_total,
        sales_total=totals.sales_total,
        returns_total=totals.returns_total,
        rounding=totals.rounding,
        taxes=tuple(tax(t) for t in totals.taxes),
        payments=tuple(
            PaymentSummary(m.mode_of_payment, m.expected_amount, m.closing_amount)
            for m in totals.modes
        ),
        opening_float=sum((m.opening_amount for m in totals.modes), Decimal(0)),
        drawer_openings=no_sales,
        unsynced_count=unsynced,
        closing=closing,
        shift_name=shift,
    )

"""Shift, sale and return use cases: the single path from a paid cart to a durable sale.

Reads (scans, searches) run in short read transactions so the counter never holds an old
snapshot open; every write is one ``BEGIN IMMEDIATE`` unit of work: a paid sale, its outbox
entry and its journal entry commit together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.counter.clock import Clock, site_clock
from appliance.counter.loyalty import LoyaltyAccount, loyalty_account, redeem
from appliance.counter.returns import (
    find_sale_for_return,
    returned_so_far,
    sale_as_cart,
    sold_numbers,
    whole_units,
)
from appliance.counter.store_credit import StoreCredit, check_spend, store_credit
from appliance.sales.barcode import ScanConfig
from appliance.sales.cart import Cart, CartError, missing_numbers, replace_offline_id
from appliance.sales.model import ZERO
from appliance.sales.payload import (
    OFFLINE_ID_FIELD,
    TERMINAL_FIELD,
    InvoiceContext,
    invoice_payload,
)
from appliance.sales.returns import make_return
from appliance.sales.shift import SaleSummary, ShiftReport, shift_report
from appliance.sales.till import Till, TillProfile
from appliance.store.catalog import SqlCatalog, load_till_profile
from appliance.store.db import unit_of_work
from appliance.store.models import PosInvoice, PosOpeningEntry, ShiftStatus
from appliance.store.receipts import next_receipt_no
from appliance.store.sales import CommittedSale, SaleDraft, commit_sale
from appliance.store.shifts import (
    OpeningBalance,
    Reconciliation,
    ShiftClosing,
    ShiftOpening,
    close_shift,
    find_open_shift,
    open_shift,
)

T = TypeVar("T")


class NoOpenShiftError(CartError):
    """Selling needs an open shift."""


@dataclass(frozen=True)
class CounterSetup:
    terminal_id: str
    pos_profile: str
    scan: ScanConfig = field(default_factory=ScanConfig)
    store_credit_modes: tuple[str, ...] = ()


def new_offline_id() -> str:
    return str(uuid.uuid4())


class Checkout:
    """One till's use cases. ``read`` and ``write`` are session factories on the same file."""

    def __init__(
        self,
        read: sessionmaker[Session],
        write: sessionmaker[Session],
        setup: CounterSetup,
        clock: Clock | None = None,
    ) -> None:
        self.setup = setup
        self._write = write
        self._read = read()
        self.catalog = SqlCatalog(self._read)
        with self.reading():
            self.profile: TillProfile = load_till_profile(self._read, setup.pos_profile, setup.scan)
        self.clock = clock or site_clock(self.profile.time_zone)
        self.till = Till(self.catalog, self.profile, self.clock().date())
        self._open_shift: tuple[int, str] | None = None  # (id, offline id), see _selling_shift

    @contextmanager
    def reading(self) -> Iterator[Session]:
        try:
            yield self._read
        finally:
            self._read.rollback()  # end the read snapshot: WAL checkpoints must not wait on us

    def read(self, action: Callable[[Till], T]) -> T:
        """Run a catalog lookup (scan, search, pricing) in a short read transaction."""
        with self.reading():
            self.till.today = self.clock().date()
            return action(self.till)

    def close(self) -> None:
        self._read.close()

    # -- returns -------------------------------------------------------------------------------
    def return_source(self, code: str) -> tuple[Cart, dict[int, Decimal]]:
        """The original sale (by receipt number or id) as a cart, and what was returned so far."""
        with self.reading() as session:
            sale = find_sale_for_return(session, code)
            original = sale_as_cart(
                sale, self.profile.settings, whole_units(session, sale), sold_numbers(session, sale)
            )
            return original, returned_so_far(session, sale)

    def start_return(self, code: str, quantities: Mapping[int, Decimal]) -> Cart:
        """A return cart for some or all lines of a sale, with its own sale id."""
        original, already = self.return_source(code)
        back = make_return(original, original.offline_id, quantities, already)
        return replace_offline_id(back, new_offline_id())

    # -- carts ---------------------------------------------------------------------------------
    def new_cart(self, customer: str | None = None) -> Cart:
        return self.read(lambda till: till.new_cart(customer, offline_id=new_offline_id()))

    def _invoice_context(self) -> InvoiceContext:
        p = self.profile
        return InvoiceContext(
            company=p.company,
            pos_profile=p.name,
            currency=p.currency,
            selling_price_list=p.price_list,
            warehouse=p.warehouse,
            terminal_id=self.setup.terminal_id,
            cost_center=p.cost_center or None,
            income_account=p.income_account or None,
            account_for_change_amount=p.account_for_change_amount or None,
            payment_accounts={m.mode_of_payment: m.account for m in p.modes if m.account},
        )

    # -- loyalty -------------------------------------------------------------------------------
    def loyalty(self, customer: str | None) -> LoyaltyAccount | None:
        """The customer's points as this till can count them (None: in no program here)."""
        with self.reading() as session:
            return loyalty_account(session, customer, self.profile.company, self.clock().date())

    def redeem_points(self, cart: Cart, points: int | None = None) -> Cart:
        """Pay part of the sale with the customer's points (refused, saying why, beyond what
        this till can count or what is left to pay)."""
        return redeem(self.loyalty(cart.customer), cart, points)

    def _earned(self, cart: Cart, customer: str) -> tuple[str | None, int]:
        """The program and the points the sale earns, as ERPNext will book them."""
        if cart.is_return or cart.totals is None:
            return cart.loyalty_program, 0
        account = self.loyalty(customer)
        if account is None:
            return cart.loyalty_program, 0
        return account.program, account.earned(cart.totals.grand_total, cart.loyalty_amount)

    # -- store credit --------------------------------------------------------------------------
    def store_credit(self, customer: str | None) -> StoreCredit | None:
        """The customer's store credit as this till can count it (None: none here)."""
        with self.reading() as session:
            return store_credit(session, customer, self.setup.store_credit_modes)

    # -- shifts --------------------------------------------------------------------------------
    def open_shift_row(self, session: Session) -> PosOpeningEntry | None:
        return find_open_shift(session, self.profile.name)

    def current_shift(self) -> str | None:
        with self.reading() as session:
            shift = self.open_shift_row(session)
            return shift.offline_id if shift else None

    def open_shift(self, user: str, opening: Mapping[str, Decimal]) -> str:
        offline_id = new_offline_id()
        start = self.clock()
        balances = tuple(OpeningBalance(m, a) for m, a in opening.items())
        payload = {
            OFFLINE_ID_FIELD: offline_id,
            TERMINAL_FIELD: self.setup.terminal_id,
            "company": self.profile.company,
            "pos_profile": self.profile.name,
            "user": user,
            "period_start_date": start.isoformat(sep=" "),
            "posting_date": start.date().isoformat(),
            "balance_details": [
                {"mode_of_payment": b.mode_of_payment, "opening_amount": str(b.opening_amount)}
                for b in balances
            ],
            "docstatus": 1,
        }
        with unit_of_work(self._write) as uow:
            open_shift(
                uow.session,
                ShiftOpening(
                    offline_id=offline_id,
                    pos_profile=self.profile.name,
                    company=self.profile.company,
                    user=user,
                    period_start=start,
                    balance_details=balances,
                    payload=payload,
                ),
            )
            uow.commit()
        return offline_id

    def shift_report(self, counted: Mapping[str, Decimal] | None = None) -> ShiftReport:
        with self.reading() as session:
            shift = self.open_shift_row(session)
            if shift is None:
                raise NoOpenShiftError("No shift is open")
            return _report(session, shift, self.profile.cash_mode, counted)

    def close_shift(self, user: str, counted: Mapping[str, Decimal]) -> ShiftReport:
        """The Z report: record the counted amounts and close the shift for sync."""
        offline_id = new_offline_id()
        end = self.clock()
        with unit_of_work(self._write) as uow:
            shift = self.open_shift_row(uow.session)
            if shift is None:
                raise NoOpenShiftError("No shift is open")
            report = _report(uow.session, shift, self.profile.cash_mode, counted)
            recon = tuple(
                Reconciliation(
                    m.mode_of_payment, m.opening_amount, m.expected_amount, m.closing_amount or ZERO
                )
                for m in report.modes
            )
            close_shift(
                uow.session,
                ShiftClosing(
                    offline_id=offline_id,
                    shift_offline_id=shift.offline_id,
                    user=user,
                    period_end=end,
                    payment_reconciliation=recon,
                    payload={
                        TERMINAL_FIELD: self.setup.terminal_id,
                        **_closing_payload(
                            self.profile, shift, offline_id, user=user, end=end, report=report
                        ),
                    },
                ),
            )
            uow.commit()
        return report

    # -- sales ---------------------------------------------------------------------------------
    def commit(self, cart: Cart, cashier: str) -> CommittedSale:
        """Make a fully paid cart a durable sale. Retrying the same cart returns the same sale."""
        if not cart.offline_id:
            raise CartError("This cart has no sale id: start it with Checkout.new_cart")
        if cart.totals is None or not cart.is_fully_paid:
            raise CartError("The sale is not fully paid yet")
        if missing := missing_numbers(cart):
            # ERPNext would not refuse it: it picks a serial or batch first-in-first-out, one
            # the customer did not get (features/NOTES.md §4).
            raise CartError(missing)
        posted = self.clock()
        customer = cart.customer or self.profile.walk_in_customer
        # Everything that needs no database is built before the write lock is taken, so the
        # transaction holds it only for the statements themselves.
        invoice = cart.invoice()
        payload = invoice_payload(
            cart,
            self._invoice_context(),
            offline_id=cart.offline_id,
            customer=customer,
            posted_at=posted,
            cashier=cashier,
        )
        program, earned = self._earned(cart, customer)
        if not cart.is_return and self.setup.store_credit_modes:
            with self.reading() as session:
                check_spend(
                    session, cart, self.setup.store_credit_modes, self.profile.walk_in_customer
                )
        original_item_ids = tuple(
            int(line.return_of.rsplit(":", 1)[1]) if line.return_of else None for line in cart.lines
        )
        with unit_of_work(self._write) as uow:
            shift_offline_id = self._selling_shift(uow.session)
            draft = SaleDraft(
                offline_id=cart.offline_id,
                receipt_no=next_receipt_no(uow.session, self.setup.terminal_id),
                shift_offline_id=shift_offline_id,
                customer=customer,
                cashier=cashier,
                posting=posted,
                invoice=invoice,
                totals=cart.totals,
                payload=payload,
                is_return=cart.is_return,
                return_against=cart.return_against,
                original_item_ids=original_item_ids,
                loyalty_program=program,
                loyalty_points=cart.loyalty_points,
                loyalty_earned=earned,
            )
            committed = commit_sale(uow.session, draft)
            uow.commit()
        return committed

    def _selling_shift(self, session: Session) -> str:
        """The open shift's offline id, from the cache while that shift is still open.

        The check is one primary-key read in the sale's own transaction, so a shift closed by
        another process since the last sale is noticed before this one is written.
        """
        if self._open_shift is not None:
            shift_id, offline_id = self._open_shift
            status = session.connection().execute(_SHIFT_STATUS, {"id": shift_id}).scalar()
            if status is ShiftStatus.OPEN:
                return offline_id
            self._open_shift = None
        shift = self.open_shift_row(session)
        if shift is None:
            raise NoOpenShiftError("Open a shift before selling")
        self._open_shift = (shift.id, shift.offline_id)
        return shift.offline_id


_SHIFT_STATUS = select(PosOpeningEntry.status).where(PosOpeningEntry.id == bindparam("id"))


def _summary(sale: PosInvoice) -> SaleSummary:
    return SaleSummary(
        receipt_no=sale.receipt_no,
        is_return=sale.is_return,
        net_total=sale.net_total,
        grand_total=sale.grand_total,
        rounded_total=sale.rounded_total,
        total_qty=sale.total_qty,
        discount_amount=sale.discount_amount,
        change_amount=sale.change_amount,
        payments=tuple((p.mode_of_payment, p.amount) for p in sale.payments),
        taxes=tuple(
            (t.account_head, t.rate, t.tax_amount_after_discount_amount) for t in sale.taxes
        ),
    )


def _report(
    session: Session,
    shift: PosOpeningEntry,
    cash_mode: str,
    counted: Mapping[str, Decimal] | None,
) -> ShiftReport:
    sales = session.scalars(select(PosInvoice).where(PosInvoice.shift_id == shift.id)).all()
    opening = {d.mode_of_payment: d.opening_amount for d in shift.balance_details}
    return shift_report((_summary(s) for s in sales), opening, cash_mode, counted)


def _closing_payload(
    profile: TillProfile,
    shift: PosOpeningEntry,
    offline_id: str,
    *,
    user: str,
    end: datetime,
    report: ShiftReport,
) -> dict[str, Any]:
    # The opening entry's and the invoices' ERPNext names are filled in by the agent at send
    # time from the outbox (they are not known offline).
    return {
        OFFLINE_ID_FIELD: offline_id,
        "offline_pos_opening_entry": shift.offline_id,
        "period_start_date": shift.period_start_date.isoformat(sep=" "),
        "period_end_date": end.isoformat(sep=" "),
        "posting_date": end.date().isoformat(),
        "posting_time": end.time().isoformat(),
        "company": profile.company,
        "pos_profile": profile.name,
        "user": user,
        "payment_reconciliation": [
            {
                "mode_of_payment": m.mode_of_payment,
                "opening_amount": str(m.opening_amount),
                "expected_amount": str(m.expected_amount),
                "closing_amount": str(m.closing_amount or 0),
            }
            for m in report.modes
        ],
        "taxes": [
            {"account_head": t.account_head, "rate": str(t.rate), "amount": str(t.amount)}
            for t in report.taxes
        ],
        "grand_total": str(report.grand_total),
        "net_total": str(report.net_total),
        "total_quantity": str(report.total_quantity),
        "docstatus": 1,
    }

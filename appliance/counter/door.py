"""The counter: every use case of a till behind one object, the screens' one door.

The screens never reach the store, the sales domain's objects or the agent: they ask a
`Counter` (on the store's thread, ``tui.backend.Backend.run``) and get plain results back.
Each concern lives in its own module; this class holds what they share (the store's session
factories and the open `Checkout`) and gives them one name each:

- selling (`checkout`, `selling`): carts, scans, the commit and what it hands the hardware;
- returns (`returns`): the original sale, the return cart, the refund by the original modes;
- shifts (`checkout`): open, X report totals, close;
- people (`people`): sign-in, sign-out, a supervisor's approval; authority is `policy.may`;
- customers (`customers`), supervisor (`supervisor`), reports and status (`reports`);
- the sale's sales person (`sale_details`), coupon (`offers`), serials and batches (`numbers`);
- the receipt journal (`receipt_journal`), price check (`price_check`), quick keys (`quick_keys`);
- readiness (`readiness`) is read before the store opens, so it is a module, not a method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from appliance.counter import (
    customers,
    numbers,
    offers,
    people,
    quick_keys,
    receipt_journal,
    reports,
    sale_details,
    selling,
    supervisor,
)
from appliance.counter import returns as returning
from appliance.counter.auth import AuthResult
from appliance.counter.cashier import ApprovalRequest, CashierCard
from appliance.counter.checkout import Checkout, CounterSetup
from appliance.counter.clock import Clock
from appliance.counter.customers import NewCustomer
from appliance.counter.facts import CounterFacts
from appliance.counter.loyalty import LoyaltyAccount
from appliance.counter.price_check import PriceCheck, price_check
from appliance.counter.quick_keys import QuickItem, QuickPage
from appliance.counter.receipt_journal import JournalPage
from appliance.counter.receipts import ReceiptSource, receipt_for
from appliance.counter.reports import Status
from appliance.counter.selling import SaleDone
from appliance.counter.store_credit import StoreCredit
from appliance.counter.supervisor import Quarantined
from appliance.counter.typed_numbers import style_of
from appliance.drivers.printer.receipt import ReceiptData, ShiftReport
from appliance.sales.cart import Cart, CartError, HeldCart
from appliance.sales.catalog import CatalogItem, CustomerInfo
from appliance.sales.shift import ShiftReport as ShiftTotals
from appliance.sales.till import Till
from appliance.store.catalog import StoreNotReadyError
from appliance.store.db import create_db_engine, make_session_factory

__all__ = ["Counter", "StoreNotReadyError", "open_counter"]

T = TypeVar("T")


class Counter:
    """One till's use cases on one store file. ``read`` and ``write`` are session factories."""

    def __init__(
        self,
        read: sessionmaker[Session],
        write: sessionmaker[Session],
        setup: CounterSetup,
        clock: Clock | None = None,
    ) -> None:
        self.read = read
        self.write = write
        self.checkout = Checkout(read, write, setup, clock)

    engine: Engine | None = None  # the one `open_counter` made, disposed of with the counter

    def close(self) -> None:
        self.checkout.close()
        if self.engine is not None:
            self.engine.dispose()

    @property
    def terminal_id(self) -> str:
        return self.checkout.setup.terminal_id

    def facts(self) -> CounterFacts:
        """What the screens need to know about this till, as data."""
        p = self.checkout.profile
        return CounterFacts(
            terminal_id=self.terminal_id,
            company=p.company,
            cash_mode=p.cash_mode,
            modes=p.modes,
            number_style=style_of(p.number_format),
            time_zone=p.time_zone,
            cashiers=tuple(self.list_cashiers()),
            store_credit_modes=self.checkout.setup.store_credit_modes,
        )

    # -- people -------------------------------------------------------------------------------
    def list_cashiers(self) -> list[CashierCard]:
        """Who may sign in, read afresh: a PIN or a role pulled since start-up counts at once."""
        return people.list_cashiers(self.read)

    def sign_in(self, user: str, pin: str) -> AuthResult:
        return people.sign_in(
            self.read, self.write, user, pin, time_zone=self.checkout.profile.time_zone
        )

    def approve(self, supervisor_: str, pin: str, request: ApprovalRequest) -> AuthResult:
        return people.approve(
            self.read,
            self.write,
            supervisor_,
            pin,
            request,
            time_zone=self.checkout.profile.time_zone,
        )

    def sign_out(self, user: str, reason: str) -> None:
        people.sign_out(self.write, user, reason)

    # -- selling ------------------------------------------------------------------------------
    def new_cart(self) -> Cart:
        return self.checkout.new_cart()

    def on_till(self, action: Callable[[Till], T]) -> T:
        """A catalog lookup (scan, price, customer taxes) in a short read transaction."""
        return self.checkout.read(action)

    def search_items(self, text: str, limit: int = 8) -> tuple[CatalogItem, ...]:
        return self.checkout.read(lambda till: self.checkout.catalog.search_items(text, limit))

    def search_customers(self, text: str, limit: int = 8) -> tuple[CustomerInfo, ...]:
        return self.checkout.read(lambda till: self.checkout.catalog.search_customers(text, limit))

    def commit(self, cart: Cart, cashier: str) -> SaleDone:
        """Make a fully paid cart (a sale or a refund) durable; say what the hardware needs.

        Retrying the same cart returns the same sale. Once the sale is saved nothing undoes it:
        a receipt that cannot be made is said in ``receipt_problem``, for a reprint.
        """
        committed = self.checkout.commit(cart, cashier)
        receipt: ReceiptData | None = None
        problem = ""
        try:
            receipt = self.receipt(committed.offline_id)
        except Exception as exc:  # the sale stands: F12 reprints it
            problem = str(exc) or type(exc).__name__
        return SaleDone(
            offline_id=committed.offline_id,
            receipt_no=committed.receipt_no,
            amount_due=cart.amount_due,
            change=cart.totals.change_amount if cart.totals else Decimal(0),
            open_drawer=selling.takes_cash(cart, self.checkout.profile.cash_mode),
            receipt=receipt,
            receipt_problem=problem,
            tenders=selling.tenders(cart, self.checkout.profile.cash_mode),
        )

    def loyalty(self, customer: str | None) -> LoyaltyAccount | None:
        """The customer's loyalty points as this till can count them (None: no program)."""
        return self.checkout.loyalty(customer)

    def redeem_points(self, cart: Cart, points: int | None = None) -> Cart:
        """The cart with part of it paid by the customer's points (None: as many as it can
        take); CartError saying why not."""
        return self.checkout.redeem_points(cart, points)

    def store_credit(self, customer: str | None) -> StoreCredit | None:
        """The customer's store credit as this till can count it (None: none here)."""
        return self.checkout.store_credit(customer)

    def receipt(self, offline_id: str, *, reprint: bool = False) -> ReceiptData:
        """The receipt of a stored sale (raises `ReceiptNotFoundError`, a LookupError)."""
        source = ReceiptSource.of(self.checkout.profile, self.terminal_id)
        with self.read() as session:
            return receipt_for(session, offline_id, source, reprint=reprint)

    def void(self, cart: Cart, cashier: str) -> Cart:
        """Journal the voided cart; the next customer's empty cart."""
        selling.void(self.write, cart, cashier)
        return self.new_cart()

    def drawer_opened(self, actor: str, reason: str, ref: str | None, device: str) -> None:
        selling.drawer_opened(self.write, actor, reason, ref, device)

    def hold(self, held: HeldCart, cashier: str) -> None:
        selling.hold(self.write, held, cashier)

    def held_carts(self) -> tuple[HeldCart, ...]:
        with self.checkout.reading() as session:
            return selling.held_carts(session)

    def recall(self, offline_id: str) -> None:
        selling.recall(self.write, offline_id)

    # -- the sale's details: who made it, units ----------------------------------------------
    def sales_people(self) -> tuple[str, ...]:
        with self.checkout.reading() as session:
            return sale_details.sales_people(session)

    def set_sales_person(self, cart: Cart, name: str | None) -> Cart:
        with self.checkout.reading() as session:
            return sale_details.choose_sales_person(session, cart, name)

    def apply_coupon(
        self, cart: Cart, typed: str, approved_by: str | None = None
    ) -> offers.CouponResult:
        """The coupon the cashier typed, checked as far as this till can (`offers`)."""
        today = self.checkout.clock().date()
        with self.checkout.reading() as session:
            self.checkout.till.today = today
            return offers.apply_coupon(
                session, self.checkout.till, cart, typed, today=today, approved_by=approved_by
            )

    def coupon_on(self, cart: Cart, typed: str, approved_by: str | None = None) -> Cart:
        """``cart`` with the coupon on it, or the CartError saying why not."""
        result = self.apply_coupon(cart, typed, approved_by)
        if result.verdict is not offers.CouponVerdict.APPLIED:
            raise CartError(result.message)
        return result.cart

    def remove_coupon(self, cart: Cart) -> Cart:
        return self.checkout.read(lambda till: offers.remove_coupon(till, cart))

    def give_serial(self, cart: Cart, line_id: int, serial: str) -> Cart:
        with self.checkout.reading() as session:
            warehouse = self.checkout.profile.warehouse
            return numbers.give_serial(session, warehouse, cart, line_id, serial)

    def batches(self, item_code: str) -> tuple[str, ...]:
        with self.checkout.reading() as session:
            return numbers.batches(session, item_code, self.checkout.clock().date())

    def give_batch(self, cart: Cart, line_id: int, batch: str) -> Cart:
        with self.checkout.reading() as session:
            today = self.checkout.clock().date()
            return numbers.give_batch(session, cart, line_id, batch, today)

    # -- the receipt journal, price check, quick keys -----------------------------------------
    def find_receipts(self, text: str, limit: int = receipt_journal.DEFAULT_LIMIT) -> JournalPage:
        """Past sales on this till matching every term the cashier typed (newest first)."""
        p = self.checkout.profile
        with self.checkout.reading() as session:
            return receipt_journal.find_receipts(
                session,
                text,
                style=style_of(p.number_format),
                today=self.checkout.clock().date(),
                rounded=not p.settings.disable_rounded_total,
                limit=limit,
            )

    def price_check(self, code: str, customer: str | None = None) -> PriceCheck:
        """An item's prices per unit and quantity break; nothing is added to any cart."""
        return self.checkout.read(lambda till: price_check(till, code, customer))

    def quick_groups(self) -> tuple[str, ...]:
        with self.checkout.reading() as session:
            return quick_keys.quick_groups(session, self.checkout.profile.name)

    def favourites(self, limit: int = quick_keys.PAGE) -> tuple[QuickItem, ...]:
        with self.checkout.reading() as session:
            today = self.checkout.clock().date()
            return quick_keys.favourites(session, self.terminal_id, today, limit=limit)

    def quick_page(self, group: str, page: int = 0) -> QuickPage:
        with self.checkout.reading() as session:
            return quick_keys.group_page(session, group, page)

    # -- returns ------------------------------------------------------------------------------
    def return_source(self, code: str) -> tuple[Cart, dict[int, Decimal]]:
        return self.checkout.return_source(code)

    def start_return(self, code: str, quantities: Mapping[int, Decimal]) -> Cart:
        return self.checkout.start_return(code, quantities)

    def refund(self, cart: Cart, code: str) -> Cart:
        """The return cart paid back by the original sale's modes (`returns.refund_plan`)."""
        with self.checkout.reading() as session:
            return returning.paid_back(session, cart, code)

    # -- shifts -------------------------------------------------------------------------------
    def shift_open(self) -> bool:
        return self.checkout.current_shift() is not None

    def open_shift(self, user: str, opening: Mapping[str, Decimal]) -> str:
        return self.checkout.open_shift(user, opening)

    def shift_totals(self, counted: Mapping[str, Decimal] | None = None) -> ShiftTotals:
        return self.checkout.shift_report(counted)

    def close_shift(self, user: str, counted: Mapping[str, Decimal]) -> ShiftTotals:
        return self.checkout.close_shift(user, counted)

    def printed_report(
        self, totals: ShiftTotals, cashier: str, *, closing: bool, shift: str = ""
    ) -> ShiftReport:
        return reports.printed_report(
            self.read,
            totals,
            company=self.checkout.profile.company,
            terminal_id=self.terminal_id,
            cashier=reports.full_name(self.list_cashiers(), cashier),
            unsynced=self.status().unsynced,
            closing=closing,
            now=self.checkout.clock(),
            shift=shift,
        )

    # -- customers ----------------------------------------------------------------------------
    def create_customer(self, new: NewCustomer, created_by: str) -> str:
        return customers.create_customer(self.write, new, created_by)

    def provinces(self) -> list[str]:
        return customers.provinces(self.read)

    def tax_categories(self) -> list[str]:
        return customers.tax_categories(self.read)

    # -- supervisor ---------------------------------------------------------------------------
    def quarantined(self) -> list[Quarantined]:
        return supervisor.quarantined(self.read)

    def retry(self, entry_id: int, supervisor_: str) -> None:
        supervisor.retry(self.write, entry_id, supervisor_)

    # -- status -------------------------------------------------------------------------------
    def status(self) -> Status:
        return reports.status(self.read, shift_open=self.shift_open())


def open_counter(db: Path, setup: CounterSetup) -> Counter:
    """The counter on the store file ``db`` (raises StoreNotReadyError naming what is missing)."""
    engine = create_db_engine(db)
    try:
        counter = Counter(
            make_session_factory(engine, read_only=True), make_session_factory(engine), setup
        )
    except BaseException:
        engine.dispose()
        raise
    counter.engine = engine
    return counter

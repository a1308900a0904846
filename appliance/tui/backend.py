"""The screens' one door to the store: every database call, on one thread, off the screen's.

SQLite sessions are not shared between threads, and the counter's read session is long-lived,
so every call runs on a single worker thread (`Backend.run`), one after the other, while the
Textual loop keeps drawing and taking keys. The methods below are plain blocking functions;
screens await them through ``run`` from their workers.

Cold start: this module loads neither SQLAlchemy nor the store, so the sign-in screen is up
before them. `Backend.start` opens the store on that same thread (the imports included) while
the cashier keys a PIN; every call waits for the store to be open and fails if it could not
be. The start-up checks (`readiness`) and the sign-in list (`read_cashiers`) read the file
with ``sqlite3`` alone.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from appliance import paths
from appliance.config import Config, ConfigError
from appliance.counter.cashier import ApprovalRequest, CashierCard
from appliance.counter.typed_numbers import NumberStyle, style_of
from appliance.provision_status import STATUS, failure
from appliance.store import watermark

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from appliance.counter.auth import AuthResult
    from appliance.counter.checkout import Checkout
    from appliance.counter.receipts import ReceiptSource
    from appliance.drivers.printer.receipt import ReceiptData, ShiftReport
    from appliance.sales.cart import Cart, HeldCart
    from appliance.sales.catalog import CatalogItem, CustomerInfo
    from appliance.sales.shift import ShiftReport as ShiftTotals
    from appliance.sales.till import Till
    from appliance.store.journal import JournalKind
    from appliance.store.models import Customer
    from appliance.store.sales import CommittedSale

T = TypeVar("T")


@dataclass(frozen=True)
class Readiness:
    """Whether this terminal can sell, and if not, exactly what it needs."""

    needs: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.needs


UNPROVISIONED = "UNPROVISIONED"  # the terminal id in the image's placeholder config


def unconfigured(problem: ConfigError) -> Readiness:
    """No config the till can use (none yet, or a bad one): said on screen, not in a crash loop."""
    return Readiness(
        (
            str(problem),
            "Provisioning (Ansible) writes that file with this terminal's id and POS Profile.",
        )
    )


def readiness(db: Path, cfg: Config, provisioning_status: Path = STATUS) -> Readiness:
    """What a brand-new (or half-set-up) terminal is missing, in the words an installer needs."""
    if cfg.terminal.id == UNPROVISIONED:
        said = failure(provisioning_status)
        return Readiness(
            (
                f"Not provisioned: {cfg.source} is the image's placeholder.",
                *([f"The provisioning file was not applied: {said}"] if said else []),
                "Provision the terminal with Ansible: it writes the config with this terminal's "
                "id and POS Profile, and the sync agent then pulls the store.",
            )
        )
    try:
        watermark.check(db)
    except watermark.StoreBehindError as exc:
        return Readiness((str(exc),))
    if not db.exists():
        return Readiness(
            (
                f"No database at {db}.",
                "Connect the terminal to ERPNext and let the sync agent run its first pull "
                "(`appliance sync --once`).",
                "To try the till without ERPNext: `appliance demo`.",
            )
        )
    conn = read_only(db)
    try:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "pos_profiles" not in tables:
            return Readiness(
                (f"The database at {db} has no tables.", "Run `appliance db migrate`, then sync.")
            )
        needs: list[str] = []
        profile = "SELECT 1 FROM pos_profiles WHERE name = ?"  # the PosProfile model's key
        if conn.execute(profile, (cfg.pos_profile,)).fetchone() is None:
            needs.append(
                f"POS Profile {cfg.pos_profile!r} (named in {cfg.source}) is not in the "
                "local store: let the sync agent pull it from ERPNext."
            )
        if not conn.execute("SELECT count(*) FROM cashiers").fetchone()[0]:
            needs.append(
                "No cashiers: add POS users with a PIN in ERPNext and let the agent sync them."
            )
        return Readiness(tuple(needs))
    finally:
        conn.close()


def read_only(db: Path) -> sqlite3.Connection:
    """A read-only ``sqlite3`` connection: start-up reads that must not wait for SQLAlchemy."""
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)


@dataclass(frozen=True)
class Status:
    """What the status bar shows; read every few seconds."""

    shift_open: bool
    unsynced: int
    quarantined: int
    last_sync: datetime | None = None
    link: str = "unknown"  # the sync agent's view of ERPNext: up, down, stopped, unknown
    problem: str = ""  # the named sync failure, if any ("request too large" ...)


@dataclass(frozen=True)
class NewCustomer:
    name: str
    phone: str = ""
    province: str = ""
    tax_category: str = ""


@dataclass
class Backend:
    cfg: Config
    db: Path
    engine: Engine = field(init=False)
    read: sessionmaker[Session] = field(init=False)
    write: sessionmaker[Session] = field(init=False)
    checkout: Checkout = field(init=False)
    # Who the sign-in screen lists until the store is open (`read_cashiers`); `open` reads
    # them again, with the same query.
    cashiers: list[CashierCard] = field(default_factory=list)
    _pool: ThreadPoolExecutor = field(init=False)
    _opened: Future[None] | None = field(init=False, default=None)
    _starting: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pos-db")

    # -- the thread ---------------------------------------------------------------------------
    def start(self) -> Future[None]:
        """Open the store on the backend's thread, once (later calls return the same future).

        Every `run` and `call` queues behind it on that one thread: a PIN keyed while the store
        opens is checked, in turn, once it is open, and fails with the store's error if it
        could not be opened.
        """
        with self._starting:
            if self._opened is None:
                self._opened = self._pool.submit(self.open)
            return self._opened

    @property
    def open_error(self) -> BaseException | None:
        """Why the store could not be opened (None while opening, once open, or not started)."""
        opened = self._opened
        if opened is None or not opened.done():
            return None
        return opened.exception()

    def _when_open(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        opened = self.start()
        opened.result()  # done: it ran first on this thread; raises if the store did not open
        return fn(*args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self.start()
        loop = asyncio.get_running_loop()
        job: Callable[[], T] = partial(self._when_open, fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool, job)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The same thread, waited for synchronously (start-up, tests, shutdown)."""
        self.start()
        job: Callable[[], T] = partial(self._when_open, fn, *args, **kwargs)
        return self._pool.submit(job).result()

    def open(self) -> None:
        """Connect and load the till (raises StoreNotReadyError naming what is missing).

        Loads SQLAlchemy and the store: run it on the backend's thread (`start`).
        """
        from appliance.counter.checkout import Checkout, CounterSetup
        from appliance.store.db import create_db_engine, make_session_factory

        self.engine = create_db_engine(self.db)
        self.read = make_session_factory(self.engine, read_only=True)
        self.write = make_session_factory(self.engine)
        setup = CounterSetup(self.cfg.terminal.id, self.cfg.pos_profile, self.cfg.scan)
        self.checkout = Checkout(self.read, self.write, setup)
        self.cashiers = self._list_cashiers()

    def close(self) -> None:
        def _close() -> None:
            if hasattr(self, "checkout"):
                self.checkout.close()
            if hasattr(self, "engine"):
                self.engine.dispose()

        self._pool.submit(_close).result()
        self._pool.shutdown(wait=True)

    @property
    def number_style(self) -> NumberStyle:
        """How the store writes numbers (ERPNext's number format): typed amounts read by it."""
        if not hasattr(self, "checkout"):
            return NumberStyle()
        return style_of(self.checkout.profile.number_format)

    @property
    def terminal_id(self) -> str:
        return self.cfg.terminal.id

    # -- people -------------------------------------------------------------------------------
    def _list_cashiers(self) -> list[CashierCard]:
        from appliance.counter import auth

        with self.read() as session:
            return auth.list_cashiers(session)

    def sign_in(self, user: str, pin: str) -> AuthResult:
        from appliance.counter import auth
        from appliance.store.db import unit_of_work

        with self.read() as read, unit_of_work(self.write) as uow:
            result = auth.authenticate(
                read, uow.session, user, pin, time_zone=self.checkout.profile.time_zone
            )
            uow.commit()
        return result

    def approve(self, supervisor: str, pin: str, request: ApprovalRequest) -> AuthResult:
        """A supervisor's PIN allows what the cashier's role does not; journaled as an override.

        Wrong PINs count against the asking cashier, never the supervisor (`auth.approve`).
        """
        from appliance.counter import auth
        from appliance.store.db import unit_of_work

        with self.read() as read, unit_of_work(self.write) as uow:
            result = auth.approve(
                read,
                uow.session,
                supervisor,
                pin,
                request,
                time_zone=self.checkout.profile.time_zone,
            )
            uow.commit()
        return result

    def record(
        self, kind: JournalKind, actor: str, ref: str | None, data: Mapping[str, Any]
    ) -> None:
        """Journal a counter event (void, drawer opening, sign-out, discount...)."""
        from appliance.store import journal
        from appliance.store.db import unit_of_work

        with unit_of_work(self.write) as uow:
            journal.append(uow.session, kind, actor, ref, dict(data))
            uow.commit()

    # -- selling ------------------------------------------------------------------------------
    def new_cart(self) -> Cart:
        return self.checkout.new_cart()

    def on_till(self, action: Callable[[Till], T]) -> T:
        return self.checkout.read(action)

    def search_items(self, text: str, limit: int = 8) -> tuple[CatalogItem, ...]:
        return self.checkout.read(lambda till: self.checkout.catalog.search_items(text, limit))

    def search_customers(self, text: str, limit: int = 8) -> tuple[CustomerInfo, ...]:
        return self.checkout.read(lambda till: self.checkout.catalog.search_customers(text, limit))

    def commit(self, cart: Cart, cashier: str) -> CommittedSale:
        return self.checkout.commit(cart, cashier)

    # -- held sales: in the store, so a restart never loses one --------------------------------
    def hold(self, held: HeldCart, cashier: str) -> None:
        from appliance.store import held as parked
        from appliance.store.db import unit_of_work

        with unit_of_work(self.write) as uow:
            parked.park(uow.session, held, cashier)
            uow.commit()

    def held_carts(self) -> tuple[HeldCart, ...]:
        from appliance.store import held as parked

        with self.checkout.reading() as session:
            return parked.held_carts(session)

    def recall(self, offline_id: str) -> None:
        from appliance.store import held as parked
        from appliance.store.db import unit_of_work

        with unit_of_work(self.write) as uow:
            parked.take(uow.session, offline_id)
            uow.commit()

    def create_customer(self, new: NewCustomer, created_by: str) -> str:
        """A customer made at the counter, queued for ERPNext; returns its local name."""
        from appliance.store.customers import OfflineCustomer, create_offline_customer
        from appliance.store.db import unit_of_work

        offline_id = str(uuid.uuid4())
        payload: dict[str, Any] = {
            "offline_id": offline_id,
            "customer_name": new.name,
            "customer_type": "Individual",
            "mobile_no": new.phone or None,
            "territory": new.province or None,
            "tax_category": new.tax_category or None,
        }
        with unit_of_work(self.write) as uow:
            row: Customer = create_offline_customer(
                uow.session,
                OfflineCustomer(
                    offline_id=offline_id,
                    customer_name=new.name,
                    created_by=created_by,
                    payload=payload,
                    territory=new.province or None,
                    mobile_no=new.phone or None,
                    tax_category=new.tax_category or None,
                ),
            )
            # Tax Rules match on the billing address's province: give the new customer one.
            if new.province:
                row.billing_state = new.province
                row.billing_country = "Canada"
            uow.commit()
        return offline_id

    def provinces(self) -> list[str]:
        from sqlalchemy import select

        from appliance.store.models import TaxRule

        with self.read() as session:
            rows = session.scalars(
                select(TaxRule.billing_state).where(TaxRule.billing_state.is_not(None)).distinct()
            )
            return sorted(str(r) for r in rows if r)

    def tax_categories(self) -> list[str]:
        from sqlalchemy import select

        from appliance.store.models import TaxCategory

        with self.read() as session:
            return [
                str(n) for n in session.scalars(select(TaxCategory.name).order_by(TaxCategory.name))
            ]

    def original_payments(self, code: str) -> list[tuple[str, str, str | None, Decimal]]:
        """How a sale was paid (mode, type, account, amount kept after change), for a refund."""
        from appliance.counter.returns import find_sale_for_return

        with self.checkout.reading() as session:
            sale = find_sale_for_return(session, code)
            out = []
            change = sale.change_amount
            for p in sale.payments:
                amount = p.amount
                if p.type == "Cash" and change:
                    amount, change = amount - min(change, amount), change - min(change, amount)
                out.append((p.mode_of_payment, p.type or "", p.account, amount))
            return out

    def start_return(self, code: str, quantities: Mapping[int, Decimal]) -> Cart:
        return self.checkout.start_return(code, quantities)

    def return_source(self, code: str) -> tuple[Cart, dict[int, Decimal]]:
        return self.checkout.return_source(code)

    # -- receipts -----------------------------------------------------------------------------
    def receipt(self, offline_id: str, *, reprint: bool = False) -> ReceiptData:
        """The receipt of a stored sale (raises `ReceiptNotFoundError`, a LookupError)."""
        from appliance.counter.receipts import receipt_for

        with self.read() as session:
            return receipt_for(session, offline_id, self.receipt_source, reprint=reprint)

    @property
    def receipt_source(self) -> ReceiptSource:
        from appliance.counter.receipts import ReceiptSource

        return ReceiptSource.of(self.checkout.profile, self.terminal_id)

    def _name(self, user: str) -> str:
        for c in self.cashiers:
            if c.user == user:
                return c.full_name
        return user

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
        from sqlalchemy import select

        from appliance.drivers.printer.receipt import (
            PaymentSummary,
            ReceiptTax,
            ShiftReport,
            StoreHeader,
        )
        from appliance.store.models import PosOpeningEntry

        with self.read() as session:
            opened = session.scalar(
                select(PosOpeningEntry.period_start_date)
                .order_by(PosOpeningEntry.id.desc())
                .limit(1)
            )
        p = self.checkout.profile
        return ShiftReport(
            store=StoreHeader(p.company),
            terminal_id=self.terminal_id,
            cashier=self._name(cashier),
            # The store's clock, as the shift's opening and the receipts (counter/clock.py).
            opened_at=opened or self.checkout.clock(),
            printed_at=self.checkout.clock(),
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
            unsynced_count=self.status().unsynced,
            closing=closing,
            shift_name=shift,
        )

    # -- supervisor ---------------------------------------------------------------------------
    def quarantined(self) -> list[tuple[int, str, str, str]]:
        """(id, doctype, offline id, ERPNext's message) of every quarantined document."""
        from sqlalchemy import select

        from appliance.scrub import scrub
        from appliance.store.models import OutboxEntry, OutboxState

        with self.read() as session:
            rows = session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.state == OutboxState.QUARANTINED)
                .order_by(OutboxEntry.id)
            )
            return [(e.id, e.doctype, e.offline_id, scrub(e.last_error or "")) for e in rows]

    def retry(self, entry_id: int, supervisor: str) -> None:
        from appliance.scrub import scrub_optional
        from appliance.store import journal, outbox
        from appliance.store.db import unit_of_work
        from appliance.store.journal import JournalKind
        from appliance.store.models import OutboxEntry

        with unit_of_work(self.write) as uow:
            entry = uow.session.get(OutboxEntry, entry_id)
            if entry is None:
                raise LookupError(f"No outbox entry {entry_id}")
            outbox.release(uow.session, entry)
            journal.append(
                uow.session,
                JournalKind.OUTBOX_RETRY,
                supervisor,
                entry.offline_id,
                {"doctype": entry.doctype, "error": scrub_optional(entry.last_error)},
            )
            uow.commit()

    # -- status -------------------------------------------------------------------------------
    def status(self) -> Status:
        from sqlalchemy import func, select

        from appliance.agent import state as agent_state
        from appliance.agent.problems import problem_of
        from appliance.store.models import OutboxEntry, OutboxState

        with self.read() as session:
            counts = dict(
                session.execute(
                    select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)
                ).all()
            )
            last = session.scalar(
                select(func.max(OutboxEntry.updated_at)).where(
                    OutboxEntry.state == OutboxState.DONE
                )
            )
            link = agent_state.link_state(session)
            problem = problem_of(agent_state.read_state(session).get("last_error"))
        unsynced = sum(n for s, n in counts.items() if s != OutboxState.DONE)
        return Status(
            shift_open=self.shift_open(),
            unsynced=int(unsynced),
            quarantined=int(counts.get(OutboxState.QUARANTINED, 0)),
            last_sync=last.replace(tzinfo=UTC) if last else None,
            link=link.value,
            problem=problem or "",
        )


def open_backend(cfg: Config, db: Path | None = None) -> Backend:
    """A backend on the configured database, opened on its own thread."""
    backend = Backend(cfg, db or paths.db_path())
    try:
        backend.start().result()
    except Exception:  # StoreNotReadyError, or the file is no store at all
        backend.close()
        raise
    return backend


__all__ = [
    "Backend",
    "NewCustomer",
    "Readiness",
    "Status",
    "open_backend",
    "read_only",
    "readiness",
    "unconfigured",
]

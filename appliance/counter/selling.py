"""After the payment: what a committed sale (or refund) hands the hardware, and the counter's
other journaled acts on a cart (hold, recall, void, a drawer opened).

The commit is ``Checkout.commit`` (one transaction: the sale, its outbox entry, its journal
entry). What follows is the same for a sale and a refund, so it is written once here: the
receipt to print and whether the cash drawer opens. The screen makes one device call for each;
the drawer journals its own openings (``drawer_opened``, the drivers' ``on_opening`` hook).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from appliance.drivers.printer.receipt import ReceiptData
from appliance.sales.cart import Cart, HeldCart
from appliance.store import held as parked
from appliance.store import journal
from appliance.store.db import unit_of_work
from appliance.store.journal import JournalKind

# The reason a drawer opened without a sale is journaled with: the X/Z reports count these.
NO_SALE = "no sale"


@dataclass(frozen=True)
class Tender:
    """One payment of a committed sale or refund, as the cashier hands it over."""

    mode_of_payment: str
    amount: Decimal  # negative on a refund: given back
    cash: bool


def refund_words(tenders: Sequence[Tender], money: Callable[[Decimal], str]) -> str:
    """What a refund gave back by each tender, cards first: "200.00 back to Credit Card, hand
    back 31.15 cash" (``money`` writes an amount as the screen does)."""
    ordered = [t for t in tenders if not t.cash] + [t for t in tenders if t.cash]
    return ", ".join(
        f"hand back {money(-t.amount)} cash"
        if t.cash
        else f"{money(-t.amount)} back to {t.mode_of_payment}"
        for t in ordered
        if t.amount < 0
    )


@dataclass(frozen=True)
class SaleDone:
    """A paid cart made durable, and what the hardware needs for it."""

    offline_id: str
    receipt_no: str
    amount_due: Decimal  # negative for a refund: money handed back
    change: Decimal
    open_drawer: bool  # cash changed hands: the drawer opens
    receipt: ReceiptData | None  # None: the sale is saved but its receipt could not be made
    receipt_problem: str = ""  # why not, for the cashier (a reprint may bring it)
    tenders: tuple[Tender, ...] = ()

    @property
    def is_refund(self) -> bool:
        return self.amount_due < 0

    @property
    def drawer_reason(self) -> str:
        """What the drawer journals the opening as."""
        return "refund" if self.is_refund else "sale"


def takes_cash(cart: Cart, cash_mode: str) -> bool:
    return any(p.mode_of_payment == cash_mode for p in cart.payments)


def tenders(cart: Cart, cash_mode: str) -> tuple[Tender, ...]:
    return tuple(
        Tender(p.mode_of_payment, p.amount, p.mode_of_payment == cash_mode) for p in cart.payments
    )


def record(
    write: sessionmaker[Session],
    kind: JournalKind,
    actor: str,
    ref: str | None,
    data: Mapping[str, Any],
) -> None:
    with unit_of_work(write) as uow:
        journal.append(uow.session, kind, actor, ref, dict(data))
        uow.commit()


def void(write: sessionmaker[Session], cart: Cart, cashier: str) -> None:
    """Journal a voided cart: what was on it and what it came to."""
    record(
        write,
        JournalKind.VOID,
        cashier,
        cart.offline_id,
        {
            "lines": [[x.item_code, str(x.qty)] for x in cart.lines],
            "amount_due": str(cart.amount_due),
        },
    )


def drawer_opened(
    write: sessionmaker[Session], actor: str, reason: str, ref: str | None, device: str
) -> None:
    """Journal one opening of the cash drawer: called by the drawer itself, once per kick."""
    record(write, JournalKind.DRAWER_OPEN, actor, ref or None, {"reason": reason, "device": device})


# -- held sales: in the store, so a restart never loses one ----------------------------------------
def hold(write: sessionmaker[Session], held: HeldCart, cashier: str) -> None:
    with unit_of_work(write) as uow:
        parked.park(uow.session, held, cashier)
        uow.commit()


def held_carts(session: Session) -> tuple[HeldCart, ...]:
    return parked.held_carts(session)


def recall(write: sessionmaker[Session], offline_id: str) -> None:
    with unit_of_work(write) as uow:
        parked.take(uow.session, offline_id)
        uow.commit()

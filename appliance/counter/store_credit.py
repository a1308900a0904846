"""Store credit (gift cards) as a tender: a customer's balance as this till can count it, and
the check that a sale does not spend more of it (features/NOTES.md §5 c; docs/agent.md, "Store
credit").

ERPNext does not stop overspending a store-credit mode (recorded 534): the till does, against
the balance pulled (minus the sum of the customer's rows of those modes) less what it spent of
it since, on sales ERPNext does not show yet. Credit given on this till (a refund to the mode)
is spendable once ERPNext has it and it is pulled. Another till may spend the same credit while
offline: that is not stopped, it is found at the next pull (a negative balance) and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.sales.cart import Cart, CartError
from appliance.sales.model import ZERO
from appliance.store.models import (
    OutboxEntry,
    OutboxState,
    PosInvoice,
    PosInvoicePayment,
    StoreCreditRow,
)


@dataclass(frozen=True)
class StoreCredit:
    """``pulled``: ERPNext's balance at the last pull; ``spent_here``: what this till spent of it
    that ERPNext does not show yet."""

    customer: str
    pulled: Decimal
    spent_here: Decimal

    @property
    def available(self) -> Decimal:
        return max(self.pulled - self.spent_here, ZERO)

    @property
    def overspent(self) -> bool:
        """Spent beyond what was given, all tills together: the conflict to report."""
        return self.pulled < 0


def store_credit(
    session: Session, customer: str | None, modes: Sequence[str]
) -> StoreCredit | None:
    """The customer's store credit (None: no store-credit mode here, or no named customer)."""
    if not modes or not customer:
        return None
    rows = session.execute(
        select(StoreCreditRow.invoice, StoreCreditRow.amount).where(
            StoreCreditRow.customer == customer
        )
    ).all()
    pulled = -sum((amount for _, amount in rows), ZERO)
    known = {invoice for invoice, _ in rows}
    local = session.execute(
        select(PosInvoicePayment.amount, OutboxEntry.state, OutboxEntry.erpnext_name)
        .join(PosInvoice, PosInvoice.id == PosInvoicePayment.invoice_id)
        .join(OutboxEntry, OutboxEntry.offline_id == PosInvoice.offline_id)
        .where(
            PosInvoice.customer == customer,
            PosInvoicePayment.mode_of_payment.in_(modes),
            PosInvoicePayment.amount > 0,  # credit given here counts once ERPNext has it
        )
    )
    spent = sum(
        (amount for amount, state, name in local if state != OutboxState.DONE or name not in known),
        ZERO,
    )
    return StoreCredit(customer, pulled, spent)


def check_spend(
    session: Session, cart: Cart, modes: Sequence[str], walk_in: str
) -> StoreCredit | None:
    """Refuse a sale that spends more store credit than its customer has here."""
    spend = sum(
        (p.amount for p in cart.payments if p.mode_of_payment in modes and p.amount > 0), ZERO
    )
    if not spend:
        return None
    if not cart.customer or cart.customer == walk_in:
        raise CartError("Store credit is the customer's: choose the customer first")
    credit = store_credit(session, cart.customer, modes)
    assert credit is not None  # modes and customer are given
    if spend > credit.available:
        since = f" ({credit.spent_here} spent on this till since the last sync)"
        raise CartError(
            f"{cart.customer} has {credit.available} of store credit"
            + (since if credit.spent_here else "")
        )
    return credit

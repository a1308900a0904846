"""Loyalty points at the counter: the balance a customer can spend here, redeeming part of a
sale with points, and the points a sale earns (features/NOTES.md §1).

ERPNext keeps the balance as Loyalty Point Entries; the till pulls them. Offline, what a
customer can spend is the pulled balance minus the points this till redeemed since that ERPNext
does not show yet (sales not sent, or sent after the last pull). Another till may have redeemed
the same points meanwhile: ERPNext then refuses the later sale ("You don't have enough Loyalty
Points to redeem") and it waits in quarantine (docs/agent.md, "Loyalty points").

ERPNext books the ``loyalty_amount`` it is sent without checking it (surprise 1), so the value
of the points is computed here, points x the program's conversion factor, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appliance.sales.cart import Cart, CartError, redeem_points
from appliance.sales.erpnext_float import flt, to_decimal
from appliance.sales.model import ZERO, TotalsSettings
from appliance.store.models import (
    Customer,
    LoyaltyPointEntry,
    LoyaltyProgram,
    OutboxEntry,
    OutboxState,
    PosInvoice,
)


@dataclass(frozen=True)
class LoyaltyAccount:
    """A customer's points as this till knows them.

    ``pulled`` is ERPNext's balance at the last pull (unexpired entries), ``redeemed_here`` the
    points this till redeemed that it does not show yet; ``available`` what may be spent now.
    """

    customer: str
    program: str
    conversion_factor: Decimal  # money per point
    collection_factor: Decimal  # money spent per point earned (ERPNext's "Collection Factor")
    pulled: int
    redeemed_here: int
    expense_account: str | None = None
    cost_center: str | None = None

    @property
    def available(self) -> int:
        return max(self.pulled - self.redeemed_here, 0)

    def value(self, points: int, precision: int = 2) -> Decimal:
        """What ``points`` pay, rounded to the currency as ERPNext stores loyalty_amount."""
        return _money(Decimal(points) * self.conversion_factor, precision)

    def earned(self, grand_total: Decimal, loyalty_amount: Decimal = ZERO) -> int:
        """Points a sale earns: whole points on the grand total less the whole-unit part of
        what points paid (recorded: 14.55 with 3.00 redeemed earns 11, with 0.10 earns 14)."""
        if self.collection_factor <= 0:
            return 0
        eligible = grand_total - loyalty_amount.to_integral_value(ROUND_FLOOR)
        if eligible <= 0:
            return 0
        return int((eligible / self.collection_factor).to_integral_value(ROUND_FLOOR))


def _money(value: Decimal, precision: int) -> Decimal:
    return to_decimal(flt(value, precision), precision)


def _active(program: LoyaltyProgram, company: str, today: date) -> bool:
    if program.company and program.company != company:
        return False
    if program.from_date and program.from_date > today:
        return False
    return not (program.to_date and program.to_date < today)


def _collection_factor(program: LoyaltyProgram, spent: Decimal) -> Decimal:
    """The tier the customer's spend reaches (the highest ``min_spent`` not above it)."""
    reached = [r for r in program.collection_rules if (r.min_spent or ZERO) <= spent]
    if not reached:
        return ZERO
    best = max(reached, key=lambda r: r.min_spent or ZERO)
    return best.collection_factor or ZERO


def redeemed_here(session: Session, customer: str, program: str) -> int:
    """Points this till redeemed for ``customer`` that the pulled entries do not show: sales
    not in ERPNext yet, and sales in ERPNext whose redemption entry has not been pulled."""
    pulled_invoices = set(
        session.scalars(
            select(LoyaltyPointEntry.invoice).where(
                LoyaltyPointEntry.customer == customer, LoyaltyPointEntry.loyalty_points < 0
            )
        )
    )
    rows = session.execute(
        select(PosInvoice.loyalty_points, OutboxEntry.state, OutboxEntry.erpnext_name)
        .join(OutboxEntry, OutboxEntry.offline_id == PosInvoice.offline_id)
        .where(
            PosInvoice.customer == customer,
            PosInvoice.loyalty_program == program,
            PosInvoice.loyalty_points > 0,
        )
    )
    return sum(
        points
        for points, state, name in rows
        if state != OutboxState.DONE or name not in pulled_invoices
    )


def loyalty_account(
    session: Session, customer: str | None, company: str, today: date
) -> LoyaltyAccount | None:
    """The customer's account, or None when they are in no program running here today."""
    if not customer:
        return None
    name = session.scalar(select(Customer.loyalty_program).where(Customer.name == customer))
    program = session.get(LoyaltyProgram, name) if name else None
    if program is None or not _active(program, company, today):
        return None
    live = (
        LoyaltyPointEntry.customer == customer,
        LoyaltyPointEntry.loyalty_program == program.name,
        (LoyaltyPointEntry.expiry_date.is_(None)) | (LoyaltyPointEntry.expiry_date >= today),
    )
    points = session.scalar(select(func.sum(LoyaltyPointEntry.loyalty_points)).where(*live))
    # ERPNext's "total spent" for the tier: every entry's purchase amount (NOTES §1).
    spent = sum(
        (
            amount or ZERO
            for amount in session.scalars(
                select(LoyaltyPointEntry.purchase_amount).where(
                    LoyaltyPointEntry.customer == customer,
                    LoyaltyPointEntry.loyalty_program == program.name,
                )
            )
        ),
        ZERO,
    )
    return LoyaltyAccount(
        customer=customer,
        program=program.name,
        conversion_factor=program.conversion_factor or ZERO,
        collection_factor=_collection_factor(program, spent),
        pulled=int(points or 0),
        redeemed_here=redeemed_here(session, customer, program.name),
        expense_account=program.expense_account,
        cost_center=program.cost_center,
    )


def most_redeemable(account: LoyaltyAccount, cart: Cart, settings: TotalsSettings) -> int:
    """The most points this sale can take: what the customer has, worth less than what is left
    to pay. Not all of it: a POS invoice needs one payment row besides the points ("At least
    one mode of payment is required for POS invoice.", recorded 511)."""
    if account.conversion_factor <= 0 or cart.remaining <= 0:
        return 0
    fits = int((cart.remaining / account.conversion_factor).to_integral_value(ROUND_FLOOR))
    while fits and account.value(fits, settings.currency_precision) >= cart.remaining:
        fits -= 1
    return min(account.available, fits)


def redeem(account: LoyaltyAccount | None, cart: Cart, points: int | None = None) -> Cart:
    """Pay part of ``cart`` with ``points`` (None: as many as the sale can take): refused,
    saying why, beyond the balance this till can count or beyond what is left to pay."""
    if account is None:
        raise CartError("This customer collects no loyalty points here")
    if cart.loyalty_points:
        raise CartError("Points are already redeemed on this sale")
    if points is None:
        points = most_redeemable(account, cart, cart.settings)
        if not points:
            raise CartError(
                f"No points to redeem: the customer has {account.available}"
                if not account.available
                else "Too little is left to pay for points"
            )
    if points <= 0:
        raise CartError("Type the number of points to redeem")
    if account.conversion_factor <= 0:
        raise CartError(f"Loyalty program {account.program} gives points no value")
    if points > account.available:
        held = f"{account.available} point{'s' if account.available != 1 else ''}"
        since = (
            f" ({account.redeemed_here} already redeemed on this till since the last sync)"
            if account.redeemed_here
            else ""
        )
        raise CartError(f"The customer has {held} to redeem{since}")
    most = most_redeemable(account, cart, cart.settings)
    if points > most:
        raise CartError(
            f"{points} points are worth {account.value(points, cart.settings.currency_precision)}"
            f": at most {most} points, something must be paid besides them"
        )
    return redeem_points(
        cart, account.program, points, account.value(points, cart.settings.currency_precision)
    )

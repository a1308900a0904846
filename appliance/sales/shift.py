"""Shift arithmetic: X and Z reports and the cash-up, from the shift's sales.

Expected cash follows ERPNext's closing: opening amount + payments taken in that mode − change
handed out (change always leaves the drawer in the cash mode). The same figures fill the POS
Closing Entry's ``payment_reconciliation``, ``taxes`` and header totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from appliance.sales.model import ZERO


@dataclass(frozen=True)
class SaleSummary:
    """What a shift report needs of one committed sale or return."""

    receipt_no: str
    is_return: bool
    net_total: Decimal
    grand_total: Decimal
    rounded_total: Decimal
    total_qty: Decimal
    discount_amount: Decimal
    change_amount: Decimal
    payments: tuple[tuple[str, Decimal], ...]
    taxes: tuple[tuple[str, Decimal, Decimal], ...]  # account, rate, amount after discount
    voided: bool = False


@dataclass(frozen=True)
class ModeReconciliation:
    mode_of_payment: str
    opening_amount: Decimal
    expected_amount: Decimal
    closing_amount: Decimal | None = None

    @property
    def difference(self) -> Decimal | None:
        """Counted minus expected: positive is over, negative is short."""
        if self.closing_amount is None:
            return None
        return self.closing_amount - self.expected_amount


@dataclass(frozen=True)
class TaxLineTotal:
    account_head: str
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class ShiftReport:
    sales_count: int
    returns_count: int
    grand_total: Decimal
    net_total: Decimal
    total_quantity: Decimal
    discounts: Decimal
    taxes: tuple[TaxLineTotal, ...]
    modes: tuple[ModeReconciliation, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    # Grand totals of the sales and of the returns (negative): together the grand total.
    sales_total: Decimal = ZERO
    returns_total: Decimal = ZERO
    # What rounding the totals to the cash unit added (the tenders took grand total + this).
    rounding: Decimal = ZERO

    @property
    def over_short(self) -> Decimal:
        return sum((m.difference or ZERO for m in self.modes), ZERO)


def shift_report(
    sales: Iterable[SaleSummary],
    opening: Mapping[str, Decimal],
    cash_mode: str,
    counted: Mapping[str, Decimal] | None = None,
) -> ShiftReport:
    """An X report (``counted`` None) or a Z report (counted amounts per mode)."""
    kept = [s for s in sales if not s.voided]
    paid: dict[str, Decimal] = {mode: ZERO for mode in opening}
    taxes: dict[tuple[str, Decimal], Decimal] = {}
    change = ZERO
    for sale in kept:
        for mode, amount in sale.payments:
            paid[mode] = paid.get(mode, ZERO) + amount
        change += sale.change_amount
        for account, rate, amount in sale.taxes:
            taxes[(account, rate)] = taxes.get((account, rate), ZERO) + amount
    paid.setdefault(cash_mode, ZERO)
    modes = tuple(
        ModeReconciliation(
            mode_of_payment=mode,
            opening_amount=opening.get(mode, ZERO),
            expected_amount=opening.get(mode, ZERO) + amount - (change if mode == cash_mode else 0),
            closing_amount=None if counted is None else counted.get(mode, ZERO),
        )
        for mode, amount in paid.items()
    )
    rounded = {bool(s.rounded_total) for s in kept if s.grand_total}
    warnings = (
        (
            "Some sales in this shift are rounded and some are not: ERPNext will refuse the "
            "closing (rounding settings changed mid-shift). Call support before closing.",
        )
        if len(rounded) > 1
        else ()
    )
    return ShiftReport(
        sales_count=sum(1 for s in kept if not s.is_return),
        returns_count=sum(1 for s in kept if s.is_return),
        grand_total=sum((s.grand_total for s in kept), ZERO),
        net_total=sum((s.net_total for s in kept), ZERO),
        total_quantity=sum((s.total_qty for s in kept), ZERO),
        discounts=sum((s.discount_amount for s in kept), ZERO),
        taxes=tuple(TaxLineTotal(a, r, amt) for (a, r), amt in taxes.items()),
        modes=modes,
        warnings=warnings,
        sales_total=sum((s.grand_total for s in kept if not s.is_return), ZERO),
        returns_total=sum((s.grand_total for s in kept if s.is_return), ZERO),
        rounding=sum((s.rounded_total - s.grand_total for s in kept if s.rounded_total), ZERO),
    )

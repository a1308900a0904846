"""ERPNext's taxes-and-totals algorithm (FACTS.md §4), written from its description.

ERPNext recomputes every total of a POS Invoice on the server and overwrites what the client sent,
so the counter must predict those numbers exactly: same rounding points, same order of float
operations, same last-line adjustments. The arithmetic therefore runs on floats through
``erpnext_float`` (the documented exception to "money is Decimal") and the results are handed
back as ``Decimal``. Only company-currency invoices are computed (conversion rate 1), which is
what a till sells in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from appliance.sales.erpnext_float import flt, round_to_smallest_fraction, to_decimal
from appliance.sales.model import (
    ChargeType,
    DiscountOn,
    InvoiceInput,
    InvoiceTotals,
    ItemLine,
    ItemResult,
    TaxLine,
    TaxResult,
    TotalsSettings,
)

# POS Invoice Item.discount_percentage carries its own precision in the doctype.
_DISCOUNT_PERCENTAGE_PRECISION = 2
# An inclusive-tax rounding residue larger than this many units of the last place is a real
# difference, not rounding, and is left visible rather than folded into the grand total.
_INCLUSIVE_DIFF_UNITS = 5


class TotalsError(ValueError):
    """The invoice cannot be computed; the message names the row and the problem."""


@dataclass
class _Item:
    item_code: str
    qty: float
    rate: float
    price_list_rate: float
    discount_percentage: float
    tax_map: dict[str, float]
    discount_amount: float = 0.0
    margin_type: str = ""
    margin_rate_or_amount: float = 0.0
    amount: float = 0.0
    net_rate: float = 0.0
    net_amount: float = 0.0
    distributed_discount_amount: float = 0.0


@dataclass
class _Tax:
    idx: int
    charge_type: ChargeType
    account_head: str
    description: str
    rate: float
    tax_amount: float
    row_id: int | None
    included: bool
    total: float = 0.0
    tax_amount_after_discount_amount: float = 0.0
    tax_amount_for_current_item: float = 0.0
    grand_total_for_current_item: float = 0.0
    tax_fraction_for_current_item: float = 0.0
    grand_total_fraction_for_current_item: float = 0.0
    item_wise: dict[str, list[float]] = field(default_factory=dict)


class _Calculation:
    """One run of the algorithm over mutable float working copies of the invoice."""

    def __init__(self, invoice: InvoiceInput, settings: TotalsSettings) -> None:
        self.s = settings
        self.pc = settings.currency_precision
        self.pf = settings.float_precision
        self.doc = invoice
        self.apply_discount_on = invoice.apply_discount_on
        self.additional_discount_percentage = self.fr(invoice.additional_discount_percentage)
        self.discount_amount = self.cr(invoice.discount_amount)
        self.discount_amount_applied = False
        self.grand_total_diff = 0.0
        self.grand_total_for_distributing_discount = 0.0
        self.items = [self._load_item(line) for line in invoice.items]
        self.taxes = [self._load_tax(n, row) for n, row in enumerate(invoice.taxes, 1)]
        self.total_qty = 0.0
        self.total = 0.0
        self.net_total = 0.0
        self.grand_total = 0.0
        self.total_taxes_and_charges = 0.0
        self.rounded_total = 0.0
        self.rounding_adjustment = 0.0

    # -- rounding shorthands: currency fields, float fields ---------------------------------
    def cr(self, value: float | Decimal | None) -> float:
        return flt(value, self.pc, self.s.rounding_method)

    def fr(self, value: float | Decimal | None) -> float:
        return flt(value, self.pf, self.s.rounding_method)

    # -- loading: ERPNext rounds every numeric input field to its precision first (R1) -------
    def _load_item(self, line: ItemLine) -> _Item:
        tax_map = {acc: float(rate) for acc, rate in line.item_tax_rate.items()}
        return _Item(
            item_code=line.item_code,
            qty=self.fr(line.qty),
            rate=self.cr(line.rate),
            price_list_rate=self.cr(line.price_list_rate),
            discount_percentage=flt(
                line.discount_percentage, _DISCOUNT_PERCENTAGE_PRECISION, self.s.rounding_method
            ),
            tax_map=tax_map,
        )

    def _load_tax(self, idx: int, row: TaxLine) -> _Tax:
        return _Tax(
            idx=idx,
            charge_type=row.charge_type,
            account_head=row.account_head,
            description=row.description,
            rate=0.0 if row.charge_type is ChargeType.ACTUAL else self.fr(row.rate),
            tax_amount=self.cr(row.tax_amount),
            row_id=row.row_id,
            included=row.included_in_print_rate,
        )

    # -- entry point ---------------------------------------------------------------------------
    def run(self) -> None:
        self._validate_taxes()
        self._calculate()
        self._set_discount_amount()
        self._apply_discount_amount()

    def _calculate(self) -> None:
        self._calculate_item_values()
        self._initialize_taxes()
        self._determine_exclusive_rate()
        self._calculate_net_total()
        self._calculate_taxes()
        self._adjust_grand_total_for_inclusive_tax()
        self._calculate_totals()

    # -- validation ----------------------------------------------------------------------------
    def _validate_taxes(self) -> None:
        for tax in self.taxes:
            prev_types = (ChargeType.ON_PREVIOUS_ROW_AMOUNT, ChargeType.ON_PREVIOUS_ROW_TOTAL)
            where = f"taxes[{tax.idx - 1}] ({tax.account_head})"
            if tax.charge_type in prev_types:
                if tax.idx == 1:
                    raise TotalsError(f"{where}: the first row cannot be '{tax.charge_type}'")
                if tax.row_id is None or not 1 <= tax.row_id < tax.idx:
                    raise TotalsError(
                        f"{where}: row_id must name an earlier row (1..{tax.idx - 1})"
                    )
            elif tax.row_id is not None:
                tax.row_id = None  # ERPNext ignores row_id on other charge types
            if tax.included:
                if tax.charge_type is ChargeType.ACTUAL:
                    raise TotalsError(f"{where}: an 'Actual' charge cannot be included in the rate")
                if tax.charge_type in prev_types and tax.row_id is not None:
                    first = self.taxes[tax.row_id - 1]
                    if not first.included:
                        raise TotalsError(
                            f"{where}: included in the rate, so row {tax.row_id} must be too"
                        )

    # -- item values (R1-R4) -------------------------------------------------------------------
    def _calculate_item_values(self) -> None:
        if self.discount_amount_applied:
            return
        for item in self.items:
            if item.discount_percentage == 100:
                item.rate = 0.0
            elif item.price_list_rate and not item.rate:
                item.rate = self.cr(item.price_list_rate * (1.0 - item.discount_percentage / 100.0))
                item.discount_amount = item.price_list_rate * (item.discount_percentage / 100.0)
            if item.price_list_rate and item.rate > item.price_list_rate:
                # A price above the list price is recorded by ERPNext as an Amount margin.
                item.margin_type = "Amount"
                item.margin_rate_or_amount = self.fr(item.rate - item.price_list_rate)
            if item.price_list_rate > 0:
                item.discount_amount = item.price_list_rate - item.rate
            item.net_rate = item.rate
            if not item.qty and self.doc.is_return:
                item.amount = self.cr(-item.rate)
            else:
                item.amount = self.cr(item.rate * item.qty)
            item.net_amount = item.amount

    # -- taxes ---------------------------------------------------------------------------------
    def _grand_total_discount_pass(self) -> bool:
        return self.discount_amount_applied and self.apply_discount_on is DiscountOn.GRAND_TOTAL

    def _initialize_taxes(self) -> None:
        for tax in self.taxes:
            tax.item_wise = {}
            tax.total = 0.0
            tax.tax_amount_after_discount_amount = 0.0
            tax.tax_amount_for_current_item = 0.0
            tax.grand_total_for_current_item = 0.0
            tax.tax_fraction_for_current_item = 0.0
            tax.grand_total_fraction_for_current_item = 0.0
            if tax.charge_type is not ChargeType.ACTUAL and not self._grand_total_discount_pass():
                tax.tax_amount = 0.0
            tax.tax_amount = self.cr(tax.tax_amount)

    def _tax_rate(self, tax: _Tax, item: _Item) -> float:
        if tax.account_head in item.tax_map:
            return self.fr(item.tax_map[tax.account_head])
        return tax.rate

    def _determine_exclusive_rate(self) -> None:
        if not any(tax.included for tax in self.taxes):
            return
        for item in self.items:
            cumulated = 0.0
            per_qty_total = 0.0
            for i, tax in enumerate(self.taxes):
                fraction = 0.0
                per_qty = 0.0
                if tax.included:
                    rate = self._tax_rate(tax, item)
                    if tax.charge_type is ChargeType.ON_NET_TOTAL:
                        fraction = rate / 100.0
                    elif tax.charge_type is ChargeType.ON_PREVIOUS_ROW_AMOUNT:
                        prev = self.taxes[_row(tax) - 1]
                        fraction = (rate / 100.0) * prev.tax_fraction_for_current_item
                    elif tax.charge_type is ChargeType.ON_PREVIOUS_ROW_TOTAL:
                        prev = self.taxes[_row(tax) - 1]
                        fraction = (rate / 100.0) * prev.grand_total_fraction_for_current_item
                    elif tax.charge_type is ChargeType.ON_ITEM_QUANTITY:
                        per_qty = rate
                tax.tax_fraction_for_current_item = fraction
                before = 1.0 if i == 0 else self.taxes[i - 1].grand_total_fraction_for_current_item
                tax.grand_total_fraction_for_current_item = before + fraction
                cumulated += fraction
                per_qty_total += per_qty * item.qty
            if not self.discount_amount_applied and item.qty and (cumulated or per_qty_total):
                item.net_amount = self.cr((item.amount - per_qty_total) / (1 + cumulated))
                item.net_rate = self.cr(item.net_amount / item.qty)

    def _calculate_net_total(self) -> None:
        self.total_qty = sum((item.qty for item in self.items), 0.0)
        self.total = self.cr(sum((item.amount for item in self.items), 0.0))
        self.net_total = self.cr(sum((item.net_amount for item in self.items), 0.0))

    def _current_tax_amount(self, item: _Item, tax: _Tax) -> tuple[float, float]:
        rate = self._tax_rate(tax, item)
        if tax.charge_type is ChargeType.ACTUAL:
            actual = self.cr(tax.tax_amount)
            amount = item.net_amount * actual / self.net_total if self.net_total else 0.0
        elif tax.charge_type is ChargeType.ON_NET_TOTAL:
            amount = (rate / 100.0) * item.net_amount
        elif tax.charge_type is ChargeType.ON_PREVIOUS_ROW_AMOUNT:
            amount = (rate / 100.0) * self.taxes[_row(tax) - 1].tax_amount_for_current_item
        elif tax.charge_type is ChargeType.ON_PREVIOUS_ROW_TOTAL:
            amount = (rate / 100.0) * self.taxes[_row(tax) - 1].grand_total_for_current_item
        else:  # On Item Quantity
            amount = rate * item.qty
        return rate, amount

    def _set_item_wise_tax(self, item: _Item, tax: _Tax, rate: float, amount: float) -> None:
        previous = tax.item_wise.get(item.item_code)
        if previous is not None:
            amount += self.cr(previous[1])
        tax.item_wise[item.item_code] = [rate, flt(amount)]

    def _calculate_taxes(self) -> None:
        self.grand_total_diff = 0.0
        if not self.taxes:
            return
        actual_left = {
            t.idx: self.cr(t.tax_amount) for t in self.taxes if t.charge_type is ChargeType.ACTUAL
        }
        last = len(self.items) - 1
        for n, item in enumerate(self.items):
            for i, tax in enumerate(self.taxes):
                rate, current = self._current_tax_amount(item, tax)
                self._set_item_wise_tax(item, tax, rate, current)
                if tax.charge_type is ChargeType.ACTUAL:
                    actual_left[tax.idx] -= current
                    if n == last:
                        current += actual_left[tax.idx]  # the last line absorbs the remainder
                elif not self._grand_total_discount_pass():
                    tax.tax_amount += current
                tax.tax_amount_for_current_item = current
                tax.tax_amount_after_discount_amount += current
                before = (
                    item.net_amount if i == 0 else self.taxes[i - 1].grand_total_for_current_item
                )
                tax.grand_total_for_current_item = flt(before + current)

        discounting = bool(
            self.discount_amount_applied
            or self.discount_amount
            or self.additional_discount_percentage
        )
        if self.apply_discount_on is DiscountOn.GRAND_TOTAL and discounting:
            for i, tax in enumerate(self.taxes):
                if self.discount_amount_applied:
                    tax.tax_amount_after_discount_amount = self.cr(
                        tax.tax_amount_after_discount_amount
                    )
                self._set_cumulative_total(i, tax)
            if not self.discount_amount_applied:
                self.grand_total_for_distributing_discount = self.taxes[-1].total
            else:
                self.grand_total_diff = self.cr(
                    self.grand_total_for_distributing_discount
                    - self.discount_amount
                    - self.taxes[-1].total
                )

        for i, tax in enumerate(self.taxes):
            tax.tax_amount = self.cr(tax.tax_amount)
            tax.tax_amount_after_discount_amount = self.cr(tax.tax_amount_after_discount_amount)
            self._set_cumulative_total(i, tax)

    def _set_cumulative_total(self, i: int, tax: _Tax) -> None:
        before = self.net_total if i == 0 else self.taxes[i - 1].total
        tax.total = self.cr(before + tax.tax_amount_after_discount_amount)

    # -- totals (R11-R14) ----------------------------------------------------------------------
    def _adjust_grand_total_for_inclusive_tax(self) -> None:
        if not any(tax.included for tax in self.taxes):
            return
        non_inclusive = sum(
            (t.tax_amount_after_discount_amount for t in self.taxes if not t.included), 0.0
        )
        diff = self.total + non_inclusive - self.cr(self.taxes[-1].total)
        if self.discount_amount_applied and self.discount_amount:
            diff -= self.discount_amount
        diff = self.cr(diff)
        limit = _INCLUSIVE_DIFF_UNITS / 10**self.pc
        self.grand_total_diff = diff if diff and abs(diff) <= limit else 0.0
        if (
            self.s.erpnext_version >= 16
            and not self.discount_amount_applied
            and self.grand_total_for_distributing_discount
        ):
            # ERPNext 16 spreads the discount over the grand total as corrected here; 15 spreads
            # it over the uncorrected one, so a cent can land on another line (golden-v16).
            self.grand_total_for_distributing_discount += self.grand_total_diff

    def _calculate_totals(self) -> None:
        if self.taxes:
            self.grand_total = flt(self.taxes[-1].total) + self.grand_total_diff
            self.total_taxes_and_charges = self.cr(
                self.grand_total - self.net_total - self.grand_total_diff
            )
        else:
            self.grand_total = flt(self.net_total)
            self.total_taxes_and_charges = 0.0
        self.grand_total = self.cr(self.grand_total)
        self._set_rounded_total()

    def _set_rounded_total(self) -> None:
        if self.s.disable_rounded_total:
            self.rounded_total = self.rounding_adjustment = 0.0
            return
        self.rounded_total = round_to_smallest_fraction(
            self.grand_total,
            float(self.s.smallest_currency_fraction_value),
            self.pc,
            self.s.rounding_method,
        )
        self.rounding_adjustment = self.cr(self.rounded_total - self.grand_total)

    # -- additional discount (R15) -------------------------------------------------------------
    def _set_discount_amount(self) -> None:
        if self.additional_discount_percentage:
            base = (
                self.grand_total
                if self.apply_discount_on is DiscountOn.GRAND_TOTAL
                else self.net_total
            )
            self.discount_amount = self.cr(base * self.additional_discount_percentage / 100)
        if self.discount_amount and abs(self.discount_amount) > abs(self.grand_total):
            raise TotalsError(
                f"discount_amount: {self.discount_amount:.{self.pc}f} cannot exceed the grand "
                f"total {self.grand_total:.{self.pc}f}"
            )

    def _apply_discount_amount(self) -> None:
        if not self.discount_amount:
            return
        base_total = self._total_for_discount_amount()
        if not base_total:
            return
        expected = 0.0
        net = 0.0
        for item in self.items:
            share = self.discount_amount * item.net_amount / base_total
            adjusted = item.net_amount - share
            expected += adjusted
            item.net_amount = self.cr(adjusted)
            item.distributed_discount_amount = self.cr(share)
            net += item.net_amount
            drift = self.cr(expected - net)
            if drift:
                # Rounding drift goes into the row where it appears, not the last one.
                item.net_amount = self.cr(item.net_amount + drift)
                item.distributed_discount_amount = self.cr(share + drift)
                net += drift
            item.net_rate = self.cr(item.net_amount / item.qty) if item.qty else 0.0
        self.discount_amount_applied = True
        self._calculate()

    def _total_for_discount_amount(self) -> float:
        if self.apply_discount_on is DiscountOn.NET_TOTAL or not self.taxes:
            return self.net_total
        fixed_total = 0.0
        fixed: dict[int, tuple[float, float]] = {}
        for tax in self.taxes:
            if tax.charge_type in (ChargeType.ACTUAL, ChargeType.ON_ITEM_QUANTITY):
                amount = tax.tax_amount
            elif tax.row_id is not None and tax.row_id in fixed:
                ref_amount, ref_cumulative = fixed[tax.row_id]
                ref = (
                    ref_amount
                    if tax.charge_type is ChargeType.ON_PREVIOUS_ROW_AMOUNT
                    else ref_cumulative
                )
                amount = ref * tax.rate / 100
            else:
                continue
            fixed_total += amount
            fixed[tax.idx] = (amount, fixed_total)
        start = self.grand_total_for_distributing_discount or self.grand_total
        return start - fixed_total

    # -- payments (§4.11, the server's rules for a POS Invoice) --------------------------------
    def payments(self) -> tuple[float, float, float, float]:
        write_off = self.cr(self.doc.write_off_amount)
        paid = self.cr(
            sum((float(p.amount) for p in self.doc.payments), 0.0) + float(self.doc.loyalty_amount)
        )
        due = self.rounded_total or self.grand_total
        change = 0.0
        if not self.doc.is_return and paid > due:
            change = self.cr(paid - due + write_off)
        outstanding = self.cr(due - write_off - paid + change)
        return paid, change, write_off, outstanding


def _row(tax: _Tax) -> int:
    assert tax.row_id is not None  # checked in _validate_taxes
    return tax.row_id


def compute_totals(invoice: InvoiceInput, settings: TotalsSettings) -> InvoiceTotals:
    """Fill every computed field of ``invoice`` exactly as ERPNext 15 would."""
    if not invoice.items:
        raise TotalsError("items: an invoice needs at least one line")
    calc = _Calculation(invoice, settings)
    calc.run()
    paid, change, write_off, outstanding = calc.payments()
    pc, pf = settings.currency_precision, settings.float_precision

    def money(value: float) -> Decimal:
        return to_decimal(calc.cr(value), pc)

    items = tuple(
        ItemResult(
            item_code=i.item_code,
            qty=to_decimal(i.qty, pf),
            price_list_rate=money(i.price_list_rate),
            discount_percentage=to_decimal(i.discount_percentage, _DISCOUNT_PERCENTAGE_PRECISION),
            discount_amount=money(i.discount_amount),
            rate=money(i.rate),
            amount=money(i.amount),
            net_rate=money(i.net_rate),
            net_amount=money(i.net_amount),
            distributed_discount_amount=money(i.distributed_discount_amount),
            margin_type=i.margin_type,
            margin_rate_or_amount=to_decimal(i.margin_rate_or_amount, pf),
        )
        for i in calc.items
    )
    taxes = tuple(
        TaxResult(
            charge_type=t.charge_type,
            account_head=t.account_head,
            description=t.description,
            rate=to_decimal(t.rate, pf),
            included_in_print_rate=t.included,
            row_id=t.row_id,
            tax_amount=money(t.tax_amount),
            tax_amount_after_discount_amount=money(t.tax_amount_after_discount_amount),
            total=money(t.total),
            item_wise_tax_detail=_item_wise(t.item_wise, pc, pf),
        )
        for t in calc.taxes
    )
    return InvoiceTotals(
        items=items,
        taxes=taxes,
        total_qty=to_decimal(calc.total_qty, pf),
        total=money(calc.total),
        net_total=money(calc.net_total),
        total_taxes_and_charges=money(calc.total_taxes_and_charges),
        discount_amount=money(calc.discount_amount),
        additional_discount_percentage=to_decimal(calc.additional_discount_percentage, pf),
        grand_total=money(calc.grand_total),
        rounding_adjustment=money(calc.rounding_adjustment),
        rounded_total=money(calc.rounded_total),
        paid_amount=money(paid),
        change_amount=money(change),
        write_off_amount=money(write_off),
        outstanding_amount=money(outstanding),
    )


def _item_wise(
    detail: Mapping[str, list[float]], pc: int, pf: int
) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        code: (to_decimal(rate, pf), to_decimal(amount, pc + 4))
        for code, (rate, amount) in detail.items()
    }


def item_wise_tax_detail_json(tax: TaxResult) -> str:
    """The ``item_wise_tax_detail`` string ERPNext 15 stores on a tax row."""
    return json.dumps(
        {
            code: [float(rate), float(amount)]
            for code, (rate, amount) in tax.item_wise_tax_detail.items()
        },
        separators=(",", ":"),
    )

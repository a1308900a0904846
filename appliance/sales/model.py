"""Value types of the sales engine: what goes into a totals calculation and what comes out.

Field names follow ERPNext's POS Invoice, POS Invoice Item, Sales Taxes and Charges and Sales
Invoice Payment doctypes so a document can be sent to ERPNext as it is. Money is ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from appliance.sales.erpnext_float import RoundingMethod

ZERO = Decimal(0)
# ERPNext stores every number as decimal(21,9): 10^12 or more in size cannot be saved.
ERPNEXT_LIMIT = Decimal(10) ** 12


class ChargeType(StrEnum):
    ACTUAL = "Actual"
    ON_NET_TOTAL = "On Net Total"
    ON_PREVIOUS_ROW_AMOUNT = "On Previous Row Amount"
    ON_PREVIOUS_ROW_TOTAL = "On Previous Row Total"
    ON_ITEM_QUANTITY = "On Item Quantity"


class DiscountOn(StrEnum):
    GRAND_TOTAL = "Grand Total"
    NET_TOTAL = "Net Total"


@dataclass(frozen=True)
class TotalsSettings:
    """The site settings that change totals (System Settings, Global Defaults, Currency)."""

    currency: str = "CAD"
    currency_precision: int = 2
    float_precision: int = 3
    rounding_method: RoundingMethod = RoundingMethod.BANKERS
    disable_rounded_total: bool = False
    smallest_currency_fraction_value: Decimal = ZERO
    # The ERPNext whose rules to follow: 16 spreads a Grand Total discount over tax-inclusive
    # prices on a base corrected for the inclusive-tax rounding (docs/totals.md).
    erpnext_version: int = 15


@dataclass(frozen=True)
class ItemLine:
    """One invoice line as the engine takes it.

    ``rate`` may be None (or zero) when ``price_list_rate`` and ``discount_percentage`` are given:
    ERPNext then derives the rate itself. ``item_tax_rate`` is the resolved Item Tax Template map
    ``{account_head: rate}``.
    """

    item_code: str
    qty: Decimal
    rate: Decimal | None = None
    price_list_rate: Decimal = ZERO
    discount_percentage: Decimal = ZERO
    item_tax_rate: Mapping[str, Decimal] = field(default_factory=dict)
    item_name: str = ""
    uom: str = ""
    conversion_factor: Decimal = Decimal(1)
    item_tax_template: str | None = None


@dataclass(frozen=True)
class FreeItem:
    """A line a product-discount Pricing Rule adds: ``uom`` "" means the item's stock UOM."""

    item_code: str
    qty: Decimal
    pricing_rule: str
    rate: Decimal = ZERO
    uom: str = ""


@dataclass(frozen=True)
class TaxLine:
    """One Sales Taxes and Charges row. ``row_id`` is 1-based, as in ERPNext."""

    charge_type: ChargeType
    account_head: str
    rate: Decimal = ZERO
    tax_amount: Decimal = ZERO
    row_id: int | None = None
    included_in_print_rate: bool = False
    description: str = ""
    cost_center: str | None = None


@dataclass(frozen=True)
class PaymentLine:
    mode_of_payment: str
    amount: Decimal
    type: str = ""  # Mode of Payment type: Cash, Bank, General, Phone
    account: str | None = None


@dataclass(frozen=True)
class InvoiceInput:
    items: tuple[ItemLine, ...]
    taxes: tuple[TaxLine, ...] = ()
    payments: tuple[PaymentLine, ...] = ()
    apply_discount_on: DiscountOn = DiscountOn.GRAND_TOTAL
    additional_discount_percentage: Decimal = ZERO
    discount_amount: Decimal = ZERO
    write_off_amount: Decimal = ZERO
    is_return: bool = False
    # Loyalty points redeemed, as money: counted as paid though not a payment row, as ERPNext
    # does (features/NOTES.md §1 "Redeeming").
    loyalty_amount: Decimal = ZERO


@dataclass(frozen=True)
class ItemResult:
    item_code: str
    qty: Decimal
    price_list_rate: Decimal
    discount_percentage: Decimal
    discount_amount: Decimal
    rate: Decimal
    amount: Decimal
    net_rate: Decimal
    net_amount: Decimal
    distributed_discount_amount: Decimal
    margin_type: str
    margin_rate_or_amount: Decimal


def discount_after_taxes(apply_discount_on: str, discount_amount: Decimal) -> bool:
    """Whether a whole-sale discount is shown after the taxes, as ERPNext prints an invoice.

    On Grand Total the discount comes off the taxed total: the taxes are shown before it
    (``tax_amount``), then the discount. On Net Total it comes first and the taxes shown are
    those on the discounted net (``tax_amount_after_discount_amount``). Either way the figures
    shown add up to the grand total (docs/totals.md, "On the receipt").
    """
    return bool(discount_amount) and apply_discount_on == DiscountOn.GRAND_TOTAL


@dataclass(frozen=True)
class TaxResult:
    charge_type: ChargeType
    account_head: str
    description: str
    rate: Decimal
    included_in_print_rate: bool
    row_id: int | None
    tax_amount: Decimal
    tax_amount_after_discount_amount: Decimal
    total: Decimal
    item_wise_tax_detail: Mapping[str, tuple[Decimal, Decimal]]


@dataclass(frozen=True)
class InvoiceTotals:
    """Every computed field ERPNext fills on a POS Invoice, per line, per tax row and overall."""

    items: tuple[ItemResult, ...]
    taxes: tuple[TaxResult, ...]
    total_qty: Decimal
    total: Decimal
    net_total: Decimal
    total_taxes_and_charges: Decimal
    discount_amount: Decimal
    additional_discount_percentage: Decimal
    grand_total: Decimal
    rounding_adjustment: Decimal
    rounded_total: Decimal
    paid_amount: Decimal
    change_amount: Decimal
    write_off_amount: Decimal
    outstanding_amount: Decimal

    @property
    def amount_due(self) -> Decimal:
        """What the customer must pay: the rounded total if rounding is on, else the grand total."""
        return self.rounded_total or self.grand_total

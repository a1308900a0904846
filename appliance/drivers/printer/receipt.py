"""What a receipt and a shift report say, as plain data (Decimal money, ERPNext field names).

The app builds a `ReceiptData` from a stored sale (PosInvoice with its items, taxes, payments);
the printer side never reads the database, so a receipt can be rendered anywhere from this alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class StoreHeader:
    name: str
    address_lines: tuple[str, ...] = ()
    tax_id: str = ""  # printed as "Tax ID: ..." (GST/VAT number) where the law wants it
    phone: str = ""


@dataclass(frozen=True)
class ReceiptLine:
    item_name: str
    qty: Decimal
    rate: Decimal  # after the line discount, as ERPNext's rate
    amount: Decimal
    uom: str = ""
    price_list_rate: Decimal = ZERO  # before the discount; ZERO when there is none
    discount_percentage: Decimal = ZERO

    @property
    def discount_amount(self) -> Decimal:
        """What the line discount took off the whole line (positive)."""
        if self.price_list_rate <= self.rate:
            return ZERO
        return self.price_list_rate * self.qty - self.amount


@dataclass(frozen=True)
class ReceiptTax:
    description: str  # ERPNext's tax row description, e.g. "GST"
    rate: Decimal
    # What the receipt shows: tax_amount_after_discount_amount, or tax_amount (before the
    # discount) when the discount is printed after the taxes (``ReceiptData.discount_after_taxes``).
    amount: Decimal
    included_in_print_rate: bool = False
    per_unit: bool = False  # "On Item Quantity": a levy per litre/unit, not a percentage
    unit: str = ""  # what a per-unit levy is charged per ("Litre"), when one unit says it


@dataclass(frozen=True)
class ReceiptPayment:
    mode_of_payment: str
    amount: Decimal  # negative on a refund: given back
    cash: bool = False  # the mode is cash: a refund's is handed back over the counter


@dataclass(frozen=True)
class ReceiptData:
    store: StoreHeader
    receipt_no: str
    terminal_id: str
    cashier: str
    posted_at: datetime
    lines: tuple[ReceiptLine, ...]
    taxes: tuple[ReceiptTax, ...]
    payments: tuple[ReceiptPayment, ...]
    total: Decimal  # sum of line amounts
    grand_total: Decimal
    discount_amount: Decimal = ZERO  # the invoice-level (additional) discount
    # A discount on the Grand Total is taken off the taxed total, so it is printed after the
    # taxes (which are then their amounts before it), as ERPNext's print of the invoice does.
    discount_after_taxes: bool = False
    rounding_adjustment: Decimal = ZERO
    rounded_total: Decimal | None = None  # None when rounding is disabled
    paid_amount: Decimal = ZERO
    change_amount: Decimal = ZERO
    currency: str = ""
    customer: str = ""
    is_return: bool = False
    return_against: str = ""  # the original receipt number on a return
    # True when the sale was made while ERPNext was unreachable: the receipt is valid and the
    # sale will sync later, but staff and customer can see it was an offline sale.
    offline: bool = False
    footer_lines: tuple[str, ...] = ()
    reprint: bool = False
    # A tax-exempt sale: the certificate number the supervisor approved it with.
    exemption_certificate: str = ""
    # Loyalty: points redeemed as part payment and their value; points the sale earns.
    loyalty_points: int = 0
    loyalty_amount: Decimal = ZERO
    loyalty_earned: int = 0

    @property
    def to_pay(self) -> Decimal:
        return self.grand_total if self.rounded_total is None else self.rounded_total


@dataclass(frozen=True)
class PaymentSummary:
    mode_of_payment: str
    expected: Decimal
    counted: Decimal | None = None  # Z report: what the cashier counted


@dataclass(frozen=True)
class ShiftReport:
    """An X report (mid-shift, nothing closes) or a Z report (the shift's closing)."""

    store: StoreHeader
    terminal_id: str
    cashier: str
    opened_at: datetime
    printed_at: datetime
    invoice_count: int
    return_count: int
    net_total: Decimal
    total_taxes: Decimal
    grand_total: Decimal
    returns_total: Decimal  # the returns' grand totals (negative): sales_total + this = grand
    taxes: tuple[ReceiptTax, ...] = ()
    sales_total: Decimal = ZERO
    rounding: Decimal = ZERO  # the tenders took grand_total + rounding
    payments: tuple[PaymentSummary, ...] = ()
    opening_float: Decimal = ZERO
    drawer_openings: int = 0  # no-sale openings, as a supervisor wants to see them
    unsynced_count: int = 0
    closing: bool = False  # True: Z report
    shift_name: str = ""

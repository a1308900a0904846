"""The cart as immutable data: every operation returns a new cart with its totals recomputed.

A cart is what the counter screen shows and what becomes a POS Invoice when it is paid. Lines
keep what ERPNext needs to recompute the same totals (price list rate, discount, rate, item tax
map); the totals are always those of ``compute_totals`` over the current lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from appliance.sales.model import (
    ZERO,
    DiscountOn,
    FreeItem,
    InvoiceInput,
    InvoiceTotals,
    ItemLine,
    PaymentLine,
    TaxLine,
    TotalsSettings,
)
from appliance.sales.totals import TotalsError, compute_totals

HUNDRED = Decimal(100)
QTY_PLACES = Decimal("0.001")


class CartError(ValueError):
    """An operation the cart refuses; the message is meant for the cashier."""


@dataclass(frozen=True)
class CartLine:
    """One line on the counter. ``rate_override`` replaces the list price for this line only."""

    line_id: int
    item_code: str
    item_name: str
    qty: Decimal
    price_list_rate: Decimal
    uom: str = ""
    conversion_factor: Decimal = Decimal(1)
    discount_percentage: Decimal = ZERO
    manual_discount: bool = False  # set by the cashier, so a re-pricing keeps it
    rate_override: Decimal | None = None
    item_tax_template: str | None = None
    item_tax_rate: Mapping[str, Decimal] = field(default_factory=dict)
    pricing_rules: tuple[str, ...] = ()
    fixed_rate: Decimal | None = None  # set by a pricing rule of type Rate or a price label
    barcode: str | None = None
    is_weighed: bool = False
    return_of: str | None = None  # the original sale line this return line refunds
    # ERPNext refuses a fraction of a unit whose UOM "must be whole number", in the line's unit
    # (qty) and in the stock unit (qty x conversion factor): the counter refuses it first.
    whole_uom: bool = False
    whole_stock_uom: str = ""  # the stock unit's name when it must be whole
    # A line a product-discount rule gives (ERPNext's is_free_item); ``free_items`` are the
    # lines this bought line earns, as pricing found them.
    is_free_item: bool = False
    free_items: tuple[FreeItem, ...] = ()
    # The item's units are numbered (one serial per unit: a line of its own per unit sold) or
    # batched; the numbers the cashier gave, checked by counter.numbers.
    has_serial_no: bool = False
    has_batch_no: bool = False
    serial_no: str = ""
    batch_no: str = ""

    @property
    def missing_number(self) -> str:
        """What the cashier still has to give for this line ("" when nothing)."""
        if self.has_serial_no and not self.serial_no:
            return f"{self.item_name} needs its serial number: scan it"
        if self.has_batch_no and not self.batch_no:
            return f"{self.item_name} needs its batch: choose it"
        return ""

    @property
    def base_rate(self) -> Decimal:
        """The per-unit price before the line discount."""
        if self.rate_override is not None:
            return self.rate_override
        if self.fixed_rate is not None:
            return self.fixed_rate
        return self.price_list_rate

    def to_item_line(self) -> ItemLine:
        return ItemLine(
            item_code=self.item_code,
            item_name=self.item_name,
            qty=self.qty,
            rate=None if self.discount_percentage or not self.base_rate else self.base_rate,
            price_list_rate=self.base_rate,
            discount_percentage=self.discount_percentage,
            item_tax_rate=self.item_tax_rate,
            uom=self.uom,
            conversion_factor=self.conversion_factor,
            item_tax_template=self.item_tax_template,
        )


@dataclass(frozen=True)
class TaxExemption:
    """A sale allowed to go without the taxes its customer's tax category takes off: the
    exemption certificate's number typed at the till and the supervisor who approved it."""

    certificate: str
    approved_by: str
    tax_category: str = ""  # the category that exempts, as the till found it


@dataclass(frozen=True)
class Cart:
    """``offline_id`` is the sale's id for life: given when the cart starts, so a retried commit
    of the same cart can never become a second sale."""

    settings: TotalsSettings
    offline_id: str = ""
    lines: tuple[CartLine, ...] = ()
    customer: str | None = None
    taxes_and_charges: str | None = None
    taxes: tuple[TaxLine, ...] = ()
    apply_discount_on: DiscountOn = DiscountOn.GRAND_TOTAL
    additional_discount_percentage: Decimal = ZERO
    discount_amount: Decimal = ZERO
    payments: tuple[PaymentLine, ...] = ()
    is_return: bool = False
    return_against: str | None = None
    # The Coupon Code document name (not the printed code) the sale's coupon rules came from.
    coupon_code: str | None = None
    # The supervisor who let the coupon's last use be taken offline (counter.offers).
    coupon_approved_by: str | None = None
    # Set only by ``Till.set_customer`` for a customer whose tax category exempts the sale;
    # without it that customer is taxed as anyone else.
    tax_exemption: TaxExemption | None = None
    # Who made the sale (a Sales Person's name, checked by counter.sale_details), and the
    # cashier's note on it: both go to ERPNext as the sale's sales_team and remarks.
    sales_person: str | None = None
    note: str = ""
    # Loyalty points redeemed as part payment, and their value in the sale's currency
    # (counter.loyalty computes it: ERPNext books whatever amount is sent).
    loyalty_program: str | None = None
    loyalty_points: int = 0
    loyalty_amount: Decimal = ZERO
    totals: InvoiceTotals | None = None
    next_line_id: int = 1

    def invoice(self) -> InvoiceInput:
        return InvoiceInput(
            items=tuple(line.to_item_line() for line in self.lines),
            taxes=self.taxes,
            payments=self.payments,
            apply_discount_on=self.apply_discount_on,
            additional_discount_percentage=self.additional_discount_percentage,
            discount_amount=ZERO if self.additional_discount_percentage else self.discount_amount,
            is_return=self.is_return,
            loyalty_amount=self.loyalty_amount,
        )

    def line(self, line_id: int) -> CartLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise CartError(f"Line {line_id} is not in the cart")

    @property
    def amount_due(self) -> Decimal:
        return self.totals.amount_due if self.totals else ZERO

    @property
    def paid(self) -> Decimal:
        """Tendered so far, loyalty points redeemed included."""
        return sum((p.amount for p in self.payments), self.loyalty_amount)

    @property
    def remaining(self) -> Decimal:
        """What is still to be paid (negative for a refund still to be handed out)."""
        return self.amount_due - self.paid

    @property
    def is_fully_paid(self) -> bool:
        if not self.lines or self.totals is None:
            return False
        if self.is_return:
            return self.paid == self.amount_due
        return self.paid >= self.amount_due


# The largest amount a line or a sale may reach. ERPNext computes money with floats (and the
# engine does as ERPNext does): far beyond this, cents are lost, and past the float range a
# price silently becomes 0.00, a free item. A price synced with a typo is refused at the scan.
MAX_AMOUNT = Decimal(10) ** 10


def _check_amounts(cart: Cart) -> None:
    for line in cart.lines:
        rate = line.base_rate
        if not rate.is_finite() or abs(rate) >= MAX_AMOUNT or abs(rate * line.qty) >= MAX_AMOUNT:
            raise CartError(
                f"{line.item_name}: price {rate} is out of range; "
                "ask the back office to check it in ERPNext"
            )


def recompute(cart: Cart) -> Cart:
    if not cart.lines:
        return replace(cart, totals=None, payments=())
    _check_amounts(cart)
    try:
        totals = compute_totals(cart.invoice(), cart.settings)
    except TotalsError as exc:
        raise CartError(str(exc)) from None
    if abs(totals.grand_total) >= MAX_AMOUNT:
        raise CartError("The sale's total is out of range: split it into smaller sales")
    return replace(cart, totals=totals)


def check_whole(line: CartLine, qty: Decimal) -> None:
    """Refuse a fraction of a unit counted in whole numbers, saying which unit and what to do."""
    unit = line.uom or "unit"
    if line.whole_uom and qty != qty.to_integral_value():
        raise CartError(
            f"{line.item_name} is sold in whole {unit}: {abs(qty).normalize():f} is not a "
            "whole number"
        )
    stock = qty * line.conversion_factor
    if line.whole_stock_uom and stock != stock.to_integral_value():
        raise CartError(
            f"{line.item_name}: {abs(qty).normalize():f} {unit} is "
            f"{abs(stock).normalize():f} {line.whole_stock_uom}, which is counted in whole numbers"
        )


def _check_qty(line: CartLine, qty: Decimal, is_return: bool) -> Decimal:
    if not qty.is_finite():
        raise CartError("Quantity must be a number")
    check_whole(line, qty)  # before rounding: 1.2345 pieces is refused, not sold as 1.234
    qty = qty.quantize(QTY_PLACES)
    if qty == 0:
        raise CartError("Quantity cannot be zero: remove the line instead")
    if is_return and qty > 0:
        raise CartError("A return line takes a negative quantity")
    if not is_return and qty < 0:
        raise CartError("Quantity cannot be negative: use Return to refund an item")
    return qty


def add_line(cart: Cart, line: CartLine, *, merge: bool = True) -> Cart:
    """Add a line, or add its quantity to an identical line already in the cart.

    Weighed items, overridden prices and return lines always get a line of their own, so each
    label and each exception stays visible on the receipt.
    """
    qty = _check_qty(line, line.qty, cart.is_return)
    mergeable = merge and not (
        line.is_weighed
        or line.rate_override is not None
        or line.return_of
        or line.is_free_item
        or line.has_serial_no  # one unit, one serial: a line each
    )
    if mergeable:
        for existing in cart.lines:
            if (
                not existing.is_free_item
                and existing.item_code == line.item_code
                and existing.batch_no == line.batch_no
                and existing.uom == line.uom
                and existing.base_rate == line.base_rate
                and existing.discount_percentage == line.discount_percentage
                and not existing.is_weighed
                and existing.rate_override is None
            ):
                return set_qty(cart, existing.line_id, existing.qty + qty)
    new = replace(line, line_id=cart.next_line_id, qty=qty)
    return recompute(replace(cart, lines=(*cart.lines, new), next_line_id=cart.next_line_id + 1))


def replace_offline_id(cart: Cart, offline_id: str) -> Cart:
    """A cart made from another document (a return) gets its own sale id."""
    return replace(cart, offline_id=offline_id)


def _replace_line(cart: Cart, line_id: int, **changes: object) -> Cart:
    cart.line(line_id)  # raises if missing
    lines = tuple(
        replace(line, **changes) if line.line_id == line_id else line  # type: ignore[arg-type]
        for line in cart.lines
    )
    return recompute(replace(cart, lines=lines))


def set_qty(cart: Cart, line_id: int, qty: Decimal) -> Cart:
    line = cart.line(line_id)
    if line.has_serial_no and abs(qty) != 1:
        raise CartError(f"{line.item_name} is sold by serial number, one per line: scan each one")
    return _replace_line(cart, line_id, qty=_check_qty(line, qty, cart.is_return))


def set_numbers(cart: Cart, line_id: int, *, serial_no: str = "", batch_no: str = "") -> Cart:
    """The serial number or batch of a line (checked by the caller against the store)."""
    return _replace_line(cart, line_id, serial_no=serial_no, batch_no=batch_no)


def missing_numbers(cart: Cart) -> str:
    """The first serial number or batch the sale still needs ("" when none)."""
    return next((m for m in (line.missing_number for line in cart.lines) if m), "")


def remove_line(cart: Cart, line_id: int) -> Cart:
    cart.line(line_id)
    return recompute(replace(cart, lines=tuple(x for x in cart.lines if x.line_id != line_id)))


def _check_percentage(pct: Decimal) -> Decimal:
    if not pct.is_finite() or not ZERO <= pct <= HUNDRED:
        raise CartError("A discount is a percentage from 0 to 100")
    return pct


def set_line_discount(cart: Cart, line_id: int, pct: Decimal) -> Cart:
    return _replace_line(
        cart, line_id, discount_percentage=_check_percentage(pct), manual_discount=True
    )


def override_price(cart: Cart, line_id: int, rate: Decimal | None) -> Cart:
    """Set (or with None, clear) a manual unit price for one line."""
    if rate is not None and (not rate.is_finite() or rate < 0):
        raise CartError("A price cannot be negative")
    return _replace_line(cart, line_id, rate_override=rate)


def set_cart_discount(
    cart: Cart,
    *,
    percentage: Decimal | None = None,
    amount: Decimal | None = None,
    on: DiscountOn = DiscountOn.GRAND_TOTAL,
) -> Cart:
    """An additional discount on the whole sale, as a percentage or an amount (not both)."""
    if percentage is not None and amount is not None:
        raise CartError("Give the cart discount as a percentage or as an amount, not both")
    pct = _check_percentage(percentage) if percentage is not None else ZERO
    amt = amount if amount is not None else ZERO
    if amt < 0:
        raise CartError("A discount amount cannot be negative")
    return recompute(
        replace(
            cart,
            additional_discount_percentage=pct,
            discount_amount=amt,
            apply_discount_on=on,
        )
    )


def set_customer(
    cart: Cart,
    customer: str | None,
    taxes: tuple[TaxLine, ...],
    taxes_and_charges: str | None,
) -> Cart:
    """A new customer brings the taxes their tax rule selects (a tax-exempt customer: none)."""
    return recompute(
        replace(cart, customer=customer, taxes=taxes, taxes_and_charges=taxes_and_charges)
    )


# A note is for a person to read on the invoice, not a document: a few lines at most.
MAX_NOTE = 500


def set_sales_person(cart: Cart, name: str | None) -> Cart:
    """Name who made the sale (None: nobody); the caller checks the name is a Sales Person."""
    return replace(cart, sales_person=name or None)


def set_note(cart: Cart, text: str) -> Cart:
    """The cashier's note on the sale ("" removes it); control characters become spaces."""
    note = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(note) > MAX_NOTE:
        raise CartError(f"A note holds at most {MAX_NOTE} characters; this one has {len(note)}")
    return replace(cart, note=note)


def add_payment(cart: Cart, payment: PaymentLine) -> Cart:
    if cart.totals is None:
        raise CartError("The cart is empty: nothing to pay")
    if not payment.amount.is_finite() or payment.amount == 0:
        raise CartError("A payment needs an amount")
    if cart.is_return != (payment.amount < 0):
        raise CartError("A refund is a negative payment; a sale takes positive payments")
    return recompute(replace(cart, payments=(*cart.payments, payment)))


def clear_payments(cart: Cart) -> Cart:
    """Take back every tender, loyalty points redeemed included."""
    return recompute(
        replace(cart, payments=(), loyalty_program=None, loyalty_points=0, loyalty_amount=ZERO)
    )


def redeem_points(cart: Cart, program: str, points: int, amount: Decimal) -> Cart:
    """Pay ``amount`` of the sale with ``points`` of ``program`` (the one redemption a sale has:
    ERPNext takes one ``loyalty_points`` figure per invoice). The counter checks the balance."""
    if cart.totals is None:
        raise CartError("The cart is empty: nothing to pay")
    if cart.is_return:
        raise CartError("Points are redeemed on a sale, not on a return")
    if points <= 0 or not amount.is_finite() or amount <= 0:
        raise CartError("Redeem a positive number of points")
    if cart.loyalty_points:
        raise CartError("Points are already redeemed on this sale")
    if amount > cart.remaining:
        raise CartError("The points are worth more than what is left to pay")
    return recompute(
        replace(cart, loyalty_program=program, loyalty_points=points, loyalty_amount=amount)
    )


@dataclass(frozen=True)
class HeldCart:
    label: str
    cart: Cart
    held_at: str  # ISO timestamp given by the caller: the engine does no I/O, not even a clock


@dataclass(frozen=True)
class Counter:
    """The active cart and the parked ones: hold and recall are plain data operations."""

    active: Cart
    held: tuple[HeldCart, ...] = ()


def hold(counter: Counter, label: str, at: str, fresh: Cart) -> Counter:
    if not counter.active.lines:
        raise CartError("Nothing to hold: the cart is empty")
    parked = HeldCart(
        label=label or f"Held {len(counter.held) + 1}", cart=counter.active, held_at=at
    )
    return Counter(active=fresh, held=(*counter.held, parked))


def recall(counter: Counter, index: int) -> Counter:
    if not 0 <= index < len(counter.held):
        raise CartError("No such held cart")
    if counter.active.lines:
        raise CartError("Finish or hold the current sale before recalling another")
    chosen = counter.held[index]
    rest = counter.held[:index] + counter.held[index + 1 :]
    return Counter(active=chosen.cart, held=rest)

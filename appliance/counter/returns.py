"""Finding a stored sale and turning it back into a cart a return can be made from."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from appliance.sales.cart import Cart, CartError, CartLine, add_payment
from appliance.sales.model import ChargeType, DiscountOn, PaymentLine, TaxLine, TotalsSettings
from appliance.sales.returns import make_return
from appliance.store.models import Item, OutboxEntry, PosInvoice, PosInvoiceItem, Uom


def find_sale_for_return(session: Session, code: str) -> PosInvoice:
    """A sale by its receipt number (as printed, or scanned from the receipt) or offline id."""
    code = code.strip()
    sale = session.scalar(
        select(PosInvoice).where(or_(PosInvoice.receipt_no == code, PosInvoice.offline_id == code))
    )
    if sale is None:
        raise CartError(f"No sale {code} on this till: check the receipt number")
    if sale.is_return:
        raise CartError(f"{code} is itself a return; find the original sale")
    if sale.loyalty_points:
        # What ERPNext does with redeemed points on a return is not recorded, and a refund by
        # the till's modes would hand the points' value back as cash (docs/agent.md).
        raise CartError(
            f"{code} was part paid with {sale.loyalty_points} loyalty points: the till cannot "
            "refund points; make this return in ERPNext"
        )
    return sale


def returned_so_far(session: Session, sale: PosInvoice) -> dict[int, Decimal]:
    """Quantity already returned per original line (positive numbers)."""
    rows = session.execute(
        select(PosInvoiceItem.original_item_id, func.sum(PosInvoiceItem.qty))
        .join(PosInvoice, PosInvoice.id == PosInvoiceItem.invoice_id)
        .where(PosInvoice.return_against_id == sale.id)
        .group_by(PosInvoiceItem.original_item_id)
    ).all()
    return {int(item_id): -Decimal(str(qty)) for item_id, qty in rows if item_id is not None}


def whole_units(session: Session, sale: PosInvoice) -> tuple[frozenset[str], dict[str, str]]:
    """The units counted in whole numbers, and the stock unit of each item the sale holds."""
    whole = frozenset(session.scalars(select(Uom.name).where(Uom.must_be_whole_number.is_(True))))
    codes = {item.item_code for item in sale.items}
    rows = session.execute(select(Item.item_code, Item.stock_uom).where(Item.item_code.in_(codes)))
    stock = {code: uom for code, uom in rows}
    return whole, stock


def sold_numbers(session: Session, sale: PosInvoice) -> tuple[tuple[str, str], ...]:
    """The serial number and batch of each of the sale's lines, as the sale was sent: a return
    gives the same ones back (features/NOTES.md §4)."""
    payload = session.scalar(
        select(OutboxEntry.payload).where(OutboxEntry.offline_id == sale.offline_id)
    )
    rows = json.loads(payload).get("items") or [] if payload else []
    return tuple((str(r.get("serial_no") or ""), str(r.get("batch_no") or "")) for r in rows)


def sale_as_cart(
    sale: PosInvoice,
    settings: TotalsSettings,
    units: tuple[frozenset[str], dict[str, str]] = (frozenset(), {}),
    numbers: Sequence[tuple[str, str]] = (),
) -> Cart:
    """The sale as it was paid: line ids are the stored line ids, rates exactly as charged.

    ``units`` (:func:`whole_units`): its lines refuse a fraction of a whole-number unit back;
    ``numbers`` (:func:`sold_numbers`): each line's serial and batch, in the lines' order."""
    whole, stock = units
    given = list(numbers) + [("", "")] * (len(sale.items) - len(numbers))
    lines = tuple(
        CartLine(
            line_id=item.id,
            item_code=item.item_code,
            item_name=item.item_name,
            qty=item.qty,
            price_list_rate=item.price_list_rate,
            uom=item.uom,
            conversion_factor=item.conversion_factor,
            # The charged rate already holds the line discount: keep it, not a recomputation.
            fixed_rate=item.rate,
            item_tax_template=item.item_tax_template,
            item_tax_rate={k: Decimal(str(v)) for k, v in json.loads(item.item_tax_rate).items()},
            whole_uom=item.uom in whole,
            whole_stock_uom=stock.get(item.item_code, "")
            if stock.get(item.item_code) in whole
            else "",
            serial_no=serial,
            batch_no=batch,
        )
        for item, (serial, batch) in zip(sale.items, given, strict=False)
    )
    taxes = tuple(
        TaxLine(
            charge_type=ChargeType(t.charge_type),
            account_head=t.account_head,
            rate=t.rate,
            tax_amount=t.tax_amount if t.charge_type == ChargeType.ACTUAL else Decimal(0),
            row_id=t.row_id,
            included_in_print_rate=t.included_in_print_rate,
            description=t.description,
            cost_center=t.cost_center,
        )
        for t in sale.taxes
    )
    return Cart(
        settings=settings,
        offline_id=sale.offline_id,
        lines=lines,
        customer=sale.customer,
        taxes=taxes,
        apply_discount_on=DiscountOn(sale.apply_discount_on),
        additional_discount_percentage=sale.additional_discount_percentage,
        discount_amount=Decimal(0) if sale.additional_discount_percentage else sale.discount_amount,
    )


@dataclass(frozen=True)
class PaidBy:
    """One payment of the original sale, as a refund may give it back."""

    mode_of_payment: str
    type: str  # Cash, Bank, General, Phone
    account: str | None
    amount: Decimal  # what the customer left with that mode (cash: after the change)


def original_payments(sale: PosInvoice) -> list[PaidBy]:
    """How ``sale`` was paid, the change taken off the cash it was given from."""
    out = []
    change = sale.change_amount
    for p in sale.payments:
        amount = p.amount
        if p.type == "Cash" and change:
            taken = min(change, amount)
            amount, change = amount - taken, change - taken
        out.append(PaidBy(p.mode_of_payment, p.type or "", p.account, amount))
    return out


def left_to_refund(session: Session, sale: PosInvoice) -> list[PaidBy]:
    """What each of ``sale``'s modes may still give back: what it paid, less what earlier
    returns of the sale gave back by it (a second return must not refund the card again)."""
    given: dict[str, Decimal] = {}
    returns = session.scalars(select(PosInvoice).where(PosInvoice.return_against_id == sale.id))
    for back in returns:
        for refunded in back.payments:
            mode = refunded.mode_of_payment
            given[mode] = given.get(mode, Decimal(0)) - refunded.amount
    out = []
    for paid in original_payments(sale):
        taken = min(given.get(paid.mode_of_payment, Decimal(0)), paid.amount)
        given[paid.mode_of_payment] = given.get(paid.mode_of_payment, Decimal(0)) - taken
        out.append(replace(paid, amount=paid.amount - taken))
    return out


def refund_plan(refund: Decimal, paid: Sequence[PaidBy]) -> list[PaymentLine]:
    """Refund by the original modes: card and others first, up to what each paid, then cash.

    The last mode takes whatever is left, so the plan always covers the refund.
    """
    left = refund
    plan: list[PaymentLine] = []
    ordered = [p for p in paid if p.type != "Cash"] + [p for p in paid if p.type == "Cash"]
    for n, p in enumerate(ordered):
        last = n == len(ordered) - 1
        take = left if last else min(left, p.amount)
        if take > 0:
            plan.append(PaymentLine(p.mode_of_payment, -take, p.type, p.account))
            left -= take
    return plan


def preview_return(
    original: Cart, back: Mapping[int, Decimal], already: Mapping[int, Decimal]
) -> Cart | None:
    """What the return of ``back`` (quantity per line) would refund, before anyone approves it;
    None while nothing (or nothing that can come back) is chosen."""
    if not any(back.values()):
        return None
    try:
        return make_return(original, original.offline_id, back, already)
    except CartError:
        return None


def paid_back(session: Session, cart: Cart, code: str) -> Cart:
    """The return ``cart`` for sale ``code`` paid back by that sale's own modes, less what its
    earlier returns gave back (`left_to_refund`, `refund_plan`): the one way a refund is
    tendered, at the screen or in `appliance simulate`."""
    paid = left_to_refund(session, find_sale_for_return(session, code))
    for payment in refund_plan(-cart.amount_due, paid):
        cart = add_payment(cart, payment)
    return cart

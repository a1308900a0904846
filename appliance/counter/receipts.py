"""A stored sale as a receipt: `ReceiptData` for the printer, the TUI and `appliance receipt`.

The printer side never reads the database; this module is the one place that turns a stored
POS Invoice (with its items, taxes and payments) into what a receipt says. The OFFLINE marker
is printed while the sale's outbox entry has not been accepted by ERPNext (not DONE), so a
reprint after the sync no longer carries it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from appliance.drivers.printer.receipt import (
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptTax,
    StoreHeader,
)
from appliance.sales.model import ChargeType, discount_after_taxes
from appliance.sales.payload import EXEMPTION_FIELD
from appliance.sales.till import TillProfile
from appliance.store.models import Cashier, Customer, OutboxEntry, OutboxState, PosInvoice
from appliance.store.sales import SALE_DOCTYPES


class ReceiptNotFoundError(LookupError):
    """No stored sale has that receipt number or offline id."""


@dataclass(frozen=True)
class ReceiptSource:
    """What a receipt says about the till rather than the sale."""

    terminal_id: str
    store: StoreHeader
    currency: str = ""
    rounded_total: bool = True  # False when the site disables rounded totals
    footer_lines: tuple[str, ...] = ()

    @classmethod
    def of(cls, profile: TillProfile, terminal_id: str) -> ReceiptSource:
        return cls(
            terminal_id=terminal_id,
            store=StoreHeader(profile.company),
            currency=profile.currency,
            rounded_total=not profile.settings.disable_rounded_total,
        )


def find_sale(session: Session, code: str) -> PosInvoice:
    """A sale (or return) by its receipt number, as printed or scanned, or its offline id."""
    code = code.strip()
    sale = session.scalar(
        select(PosInvoice).where(or_(PosInvoice.receipt_no == code, PosInvoice.offline_id == code))
    )
    if sale is None:
        # Typed from the paper in the wrong case ("demo1-000054"): the index can't help, the
        # journal is small enough to scan.
        sale = session.scalar(
            select(PosInvoice).where(func.upper(PosInvoice.receipt_no) == code.upper())
        )
    if sale is None:
        raise ReceiptNotFoundError(f"no sale {code!r} on this till")
    return sale


def is_synced(session: Session, offline_id: str) -> bool:
    """True once ERPNext accepted the sale (its outbox entry is DONE)."""
    state = session.scalar(
        select(OutboxEntry.state).where(
            OutboxEntry.offline_id == offline_id, OutboxEntry.doctype.in_(SALE_DOCTYPES)
        )
    )
    return state == OutboxState.DONE


def cashier_name(session: Session, user: str) -> str:
    name = session.scalar(select(Cashier.full_name).where(Cashier.user == user))
    return name or user


def customer_name(session: Session, name: str) -> str:
    """The customer's name as ERPNext prints it (``customer_name``): a customer made at the till
    is named by its offline id until ERPNext names it, and that id means nothing on paper."""
    found = session.scalar(
        select(Customer.customer_name).where(
            or_(Customer.name == name, Customer.offline_id == name)
        )
    )
    return found or name


def receipt_for(
    session: Session, code: str, source: ReceiptSource, *, reprint: bool = False
) -> ReceiptData:
    """The receipt of the stored sale `code` (receipt number or offline id)."""
    sale = find_sale(session, code)
    after_taxes = discount_after_taxes(sale.apply_discount_on, sale.discount_amount)
    return ReceiptData(
        store=source.store,
        receipt_no=sale.receipt_no,
        terminal_id=source.terminal_id,
        cashier=cashier_name(session, sale.cashier),
        posted_at=datetime.combine(sale.posting_date, sale.posting_time),
        lines=tuple(
            ReceiptLine(
                item_name=i.item_name,
                qty=i.qty,
                rate=i.rate,
                amount=i.amount,
                uom=i.uom,
                price_list_rate=i.price_list_rate if i.discount_percentage else Decimal(0),
                discount_percentage=i.discount_percentage,
            )
            for i in sale.items
        ),
        taxes=tuple(
            ReceiptTax(
                t.description or t.account_head,
                t.rate,
                t.tax_amount if after_taxes else t.tax_amount_after_discount_amount,
                t.included_in_print_rate,
                per_unit=t.charge_type == ChargeType.ON_ITEM_QUANTITY,
            )
            for t in sale.taxes
        ),
        payments=tuple(
            ReceiptPayment(x.mode_of_payment, x.amount, cash=x.type == "Cash")
            for x in sale.payments
        ),
        total=sale.total,
        grand_total=sale.grand_total,
        discount_amount=sale.discount_amount,
        discount_after_taxes=after_taxes,
        rounding_adjustment=sale.rounding_adjustment,
        rounded_total=sale.rounded_total if source.rounded_total else None,
        paid_amount=sale.paid_amount,
        change_amount=sale.change_amount,
        currency=source.currency,
        customer=customer_name(session, sale.customer),
        is_return=sale.is_return,
        return_against=sale.return_against.receipt_no if sale.return_against else "",
        offline=not is_synced(session, sale.offline_id),
        footer_lines=source.footer_lines,
        reprint=reprint,
        exemption_certificate=exemption_certificate(sale),
        loyalty_points=sale.loyalty_points,
        loyalty_amount=sale.loyalty_amount,
        loyalty_earned=sale.loyalty_earned,
    )


def exemption_certificate(sale: PosInvoice) -> str:
    """The certificate a tax-exempt sale was approved with: kept in the sale's stored body
    (what ERPNext receives, fingerprinted by the sale's journal entry), "" for any other."""
    if EXEMPTION_FIELD not in sale.payload:
        return ""  # most sales: no need to parse the body
    return str(json.loads(sale.payload).get(EXEMPTION_FIELD) or "")

"""Committing a paid sale: the POS Invoice, its outbox entry and its journal entry, together.

Everything is written in the caller's transaction (``unit_of_work``); nothing here commits. So
either the sale, its rows, its outbox entry and its journal entry are all on disk, or none is:
the receipt is printed only after the caller's commit returns.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.sales.model import InvoiceInput, InvoiceTotals
from appliance.store import journal, jsonutil, outbox
from appliance.store.models import (
    Customer,
    CustomerSyncState,
    JournalEntry,
    OutboxEntry,
    PosInvoice,
    PosInvoiceItem,
    PosInvoicePayment,
    PosInvoiceTax,
    PosOpeningEntry,
    SaleStatus,
    ShiftStatus,
)
from appliance.store.receipts import give_back_receipt_no

POS_INVOICE = "POS Invoice"
SALES_INVOICE = "Sales Invoice"  # ERPNext 16 can post POS sales as Sales Invoices (FACTS §6)
SALE_DOCTYPES = (POS_INVOICE, SALES_INVOICE)
OPENING_DOCTYPE = "POS Opening Entry"
CLOSING_DOCTYPE = "POS Closing Entry"
CUSTOMER_DOCTYPE = "Customer"


class SaleError(ValueError):
    """The sale cannot be committed as given; the message says why."""


def require_uuid(value: str, what: str) -> None:
    """Offline ids are lower-case canonical UUIDs, so one document has exactly one spelling."""
    try:
        ok = str(uuid.UUID(value)) == value
    except ValueError:
        ok = False
    if not ok:
        raise SaleError(f"{what} {value!r} is not a canonical UUID")


@dataclass(frozen=True)
class SaleDraft:
    """A paid sale (or return) as the till hands it to the store.

    ``posting`` is the site's local wall time (ERPNext compares it with the shift's period in
    the System Settings time zone). ``return_against`` is the original sale's offline id, and
    ``original_item_ids`` gives, per line, the id of the ``PosInvoiceItem`` it returns.
    ``payload`` is the exact ERPNext body to send; Decimals in it are kept digit for digit.
    """

    offline_id: str
    receipt_no: str
    shift_offline_id: str
    customer: str
    cashier: str
    posting: datetime
    invoice: InvoiceInput
    totals: InvoiceTotals
    payload: Mapping[str, Any]
    is_return: bool = False
    return_against: str | None = None
    original_item_ids: tuple[int | None, ...] = ()
    doctype: str = POS_INVOICE

    def __post_init__(self) -> None:
        require_uuid(self.offline_id, "offline_id")
        if not self.invoice.items:
            raise SaleError("a sale needs at least one line")
        if len(self.totals.items) != len(self.invoice.items):
            raise SaleError("totals.items and invoice.items differ in length")
        if len(self.totals.taxes) != len(self.invoice.taxes):
            raise SaleError("totals.taxes and invoice.taxes differ in length")
        if self.is_return != self.invoice.is_return:
            raise SaleError("is_return disagrees with invoice.is_return")
        if self.is_return != (self.return_against is not None):
            raise SaleError("a return needs return_against, and only a return has one")
        if self.original_item_ids and len(self.original_item_ids) != len(self.invoice.items):
            raise SaleError("original_item_ids must give one entry per line")
        if self.doctype not in SALE_DOCTYPES:
            raise SaleError(f"doctype must be one of {SALE_DOCTYPES}, not {self.doctype!r}")
        paid = sum((p.amount for p in self.invoice.payments), Decimal(0))
        if paid != self.totals.paid_amount:
            raise SaleError(
                f"payments add up to {paid}, totals.paid_amount is {self.totals.paid_amount}"
            )
        amounts = sum((i.amount for i in self.totals.items), Decimal(0))
        if amounts != self.totals.total:
            raise SaleError(
                f"line amounts add up to {amounts}, totals.total is {self.totals.total}"
            )


@dataclass(frozen=True)
class CommittedSale:
    sale_id: int
    offline_id: str
    receipt_no: str
    outbox_entry_id: int
    journal_seq: int
    created: bool  # False when this offline id was already committed: nothing new was written


def find_sale(session: Session, offline_id: str) -> PosInvoice | None:
    return session.scalar(select(PosInvoice).where(PosInvoice.offline_id == offline_id))


def commit_sale(session: Session, sale: SaleDraft) -> CommittedSale:
    """Write the sale with its outbox and journal entries in the caller's transaction.

    Idempotent on ``offline_id``: committing the same sale again returns the first one (and
    hands back a receipt number freshly allocated for the replay).
    """
    existing = find_sale(session, sale.offline_id)
    if existing is not None:
        if sale.receipt_no != existing.receipt_no:
            give_back_receipt_no(session, sale.receipt_no)
        return _already_committed(session, existing)

    shift = _open_shift(session, sale.shift_offline_id)
    original = _original_sale(session, sale) if sale.is_return else None
    payload_text = jsonutil.dumps_payload(sale.payload)
    invoice = _build_invoice(sale, shift, original, payload_text)
    session.add(invoice)
    session.flush()
    entry = outbox.enqueue(
        session,
        sale.doctype,
        sale.offline_id,
        payload_text,
        _dependencies(session, sale, shift, original),
    )
    record = journal.append(
        session,
        journal.JournalKind.RETURN if sale.is_return else journal.JournalKind.SALE,
        sale.cashier,
        sale.offline_id,
        {
            "receipt_no": sale.receipt_no,
            "shift": shift.offline_id,
            "customer": sale.customer,
            "lines": len(sale.invoice.items),
            "grand_total": sale.totals.grand_total,
            "rounded_total": sale.totals.rounded_total,
            "paid_amount": sale.totals.paid_amount,
            "change_amount": sale.totals.change_amount,
            "return_against": sale.return_against,
            # Ties the stored payload to the chain: an edited payload no longer matches.
            "payload_sha256": payload_sha256(payload_text),
        },
    )
    return CommittedSale(
        sale_id=invoice.id,
        offline_id=invoice.offline_id,
        receipt_no=invoice.receipt_no,
        outbox_entry_id=entry.id,
        journal_seq=record.seq,
        created=True,
    )


def payload_sha256(payload_text: str) -> str:
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


def _open_shift(session: Session, shift_offline_id: str) -> PosOpeningEntry:
    shift = session.scalar(
        select(PosOpeningEntry).where(PosOpeningEntry.offline_id == shift_offline_id)
    )
    if shift is None:
        raise SaleError(f"no shift with offline id {shift_offline_id}")
    if shift.status is not ShiftStatus.OPEN:
        raise SaleError(f"shift {shift_offline_id} is {shift.status}, not Open")
    return shift


def _original_sale(session: Session, sale: SaleDraft) -> PosInvoice:
    assert sale.return_against is not None  # checked in SaleDraft
    original = find_sale(session, sale.return_against)
    if original is None:
        raise SaleError(f"return against unknown sale {sale.return_against}")
    if original.is_return:
        raise SaleError(f"sale {sale.return_against} is itself a return")
    if original.customer != sale.customer:
        # ERPNext refuses a return to another customer (validate_return_against).
        raise SaleError(f"return customer {sale.customer} differs from {original.customer}")
    own_lines = {item.id for item in original.items}
    for ref in sale.original_item_ids:
        if ref is not None and ref not in own_lines:
            raise SaleError(f"line {ref} is not a line of sale {sale.return_against}")
    return original


def _build_invoice(
    sale: SaleDraft, shift: PosOpeningEntry, original: PosInvoice | None, payload_text: str
) -> PosInvoice:
    totals, inputs = sale.totals, sale.invoice
    invoice = PosInvoice(
        offline_id=sale.offline_id,
        receipt_no=sale.receipt_no,
        shift=shift,
        pos_profile=shift.pos_profile,
        customer=sale.customer,
        cashier=sale.cashier,
        posting_date=sale.posting.date(),
        posting_time=sale.posting.time(),
        is_return=sale.is_return,
        return_against=original,
        status=SaleStatus.RETURN if sale.is_return else SaleStatus.PAID,
        total_qty=totals.total_qty,
        total=totals.total,
        net_total=totals.net_total,
        total_taxes_and_charges=totals.total_taxes_and_charges,
        discount_amount=totals.discount_amount,
        additional_discount_percentage=totals.additional_discount_percentage,
        apply_discount_on=inputs.apply_discount_on.value,
        grand_total=totals.grand_total,
        rounding_adjustment=totals.rounding_adjustment,
        rounded_total=totals.rounded_total,
        paid_amount=totals.paid_amount,
        change_amount=totals.change_amount,
        write_off_amount=totals.write_off_amount,
        payload=payload_text,
    )
    refs = sale.original_item_ids or (None,) * len(inputs.items)
    for n, (line, result, ref) in enumerate(zip(inputs.items, totals.items, refs, strict=True)):
        invoice.items.append(
            PosInvoiceItem(
                idx=n + 1,
                item_code=line.item_code,
                item_name=line.item_name or line.item_code,
                qty=result.qty,
                uom=line.uom,
                conversion_factor=line.conversion_factor,
                price_list_rate=result.price_list_rate,
                discount_percentage=result.discount_percentage,
                discount_amount=result.discount_amount,
                rate=result.rate,
                amount=result.amount,
                net_rate=result.net_rate,
                net_amount=result.net_amount,
                distributed_discount_amount=result.distributed_discount_amount,
                item_tax_template=line.item_tax_template,
                item_tax_rate=jsonutil.dumps_payload(dict(line.item_tax_rate)),
                original_item_id=ref,
            )
        )
    for n, (tax_in, tax) in enumerate(zip(inputs.taxes, totals.taxes, strict=True)):
        invoice.taxes.append(
            PosInvoiceTax(
                idx=n + 1,
                charge_type=tax.charge_type.value,
                account_head=tax.account_head,
                description=tax.description,
                rate=tax.rate,
                row_id=tax.row_id,
                included_in_print_rate=tax.included_in_print_rate,
                cost_center=tax_in.cost_center,
                tax_amount=tax.tax_amount,
                tax_amount_after_discount_amount=tax.tax_amount_after_discount_amount,
                total=tax.total,
                item_wise_tax_detail=jsonutil.dumps_payload(
                    {code: list(pair) for code, pair in tax.item_wise_tax_detail.items()}
                ),
            )
        )
    for n, payment in enumerate(inputs.payments):
        invoice.payments.append(
            PosInvoicePayment(
                idx=n + 1,
                mode_of_payment=payment.mode_of_payment,
                type=payment.type or None,
                account=payment.account,
                amount=payment.amount,
            )
        )
    return invoice


def _dependencies(
    session: Session, sale: SaleDraft, shift: PosOpeningEntry, original: PosInvoice | None
) -> list[OutboxEntry]:
    """What ERPNext must have before this sale: its opening entry, a customer created here and
    not yet sent, and for a return the original sale."""
    deps: list[OutboxEntry] = []
    opening = outbox.find_entry(session, OPENING_DOCTYPE, shift.offline_id)
    if opening is None:
        raise SaleError(f"shift {shift.offline_id} has no outbox entry")
    deps.append(opening)
    customer = session.get(Customer, sale.customer)
    if (
        customer is not None
        and customer.offline_id is not None
        and customer.sync_state is CustomerSyncState.PENDING
    ):
        created = outbox.find_entry(session, CUSTOMER_DOCTYPE, customer.offline_id)
        if created is not None:
            deps.append(created)
    if original is not None:
        sent = outbox.find_by_offline_id(session, original.offline_id)
        if sent is None:
            raise SaleError(f"original sale {original.offline_id} has no outbox entry")
        deps.append(sent)
    return deps


def _already_committed(session: Session, sale: PosInvoice) -> CommittedSale:
    entry = outbox.find_by_offline_id(session, sale.offline_id)
    seq = session.scalar(
        select(JournalEntry.seq)
        .where(JournalEntry.ref == sale.offline_id)
        .order_by(JournalEntry.seq)
        .limit(1)
    )
    if entry is None or seq is None:
        raise SaleError(f"sale {sale.offline_id} exists without its outbox or journal entry")
    return CommittedSale(
        sale_id=sale.id,
        offline_id=sale.offline_id,
        receipt_no=sale.receipt_no,
        outbox_entry_id=entry.id,
        journal_seq=seq,
        created=False,
    )

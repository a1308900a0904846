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
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, insert, select
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
    # Points redeemed (their value is ``invoice.loyalty_amount``) and earned, for the receipt.
    loyalty_program: str | None = None
    loyalty_points: int = 0
    loyalty_earned: int = 0

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
        # Points redeemed count as paid (their loyalty_amount), as ERPNext counts them.
        paid = sum((p.amount for p in self.invoice.payments), self.invoice.loyalty_amount)
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

    This is the counter's hot path, so it writes with Core statements, not ORM objects: one read
    for everything the sale needs to know (is it a replay, is the shift open, what must ERPNext
    have first), then one insert per table, the child rows as executemany. Everything is
    checked before the first write.
    """
    session.flush()  # whatever the caller left pending must be visible to the statements below
    conn = session.connection()
    ctx = conn.execute(
        _CONTEXT,
        {"offline_id": sale.offline_id, "shift": sale.shift_offline_id, "customer": sale.customer},
    ).one()
    if ctx.existing_id is not None:
        existing = session.get(PosInvoice, ctx.existing_id)
        assert existing is not None
        if sale.receipt_no != existing.receipt_no:
            give_back_receipt_no(session, sale.receipt_no)
        return _already_committed(session, existing)
    if ctx.shift_id is None:
        raise SaleError(f"no shift with offline id {sale.shift_offline_id}")
    if ctx.shift_status is not ShiftStatus.OPEN:
        raise SaleError(f"shift {sale.shift_offline_id} is {ctx.shift_status}, not Open")
    if ctx.opening_entry_id is None:
        raise SaleError(f"shift {sale.shift_offline_id} has no outbox entry")
    # What ERPNext must have before this sale: its opening entry, a customer created here and
    # not yet sent, and for a return the original sale.
    depends_on = [ctx.opening_entry_id]
    if ctx.customer_entry_id is not None:
        depends_on.append(ctx.customer_entry_id)
    original_id = None
    if sale.is_return:
        original_id, original_entry_id = _original_sale(conn, sale)
        depends_on.append(original_entry_id)

    payload_text = jsonutil.dumps_payload(sale.payload)
    row = _invoice_row(sale, ctx.shift_id, ctx.pos_profile, original_id, payload_text)
    sale_id = conn.execute(_INSERT_INVOICE, row).lastrowid
    items, taxes, payments = _child_rows(sale, sale_id)
    conn.execute(_INSERT_ITEM, items)  # never empty: SaleDraft requires a line
    if taxes:
        conn.execute(_INSERT_TAX, taxes)
    if payments:
        conn.execute(_INSERT_PAYMENT, payments)
    entry_id = outbox.enqueue_row(session, sale.doctype, sale.offline_id, payload_text, depends_on)
    record = journal.append(
        session,
        journal.JournalKind.RETURN if sale.is_return else journal.JournalKind.SALE,
        sale.cashier,
        sale.offline_id,
        {
            "receipt_no": sale.receipt_no,
            "shift": sale.shift_offline_id,
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
        sale_id=sale_id,
        offline_id=sale.offline_id,
        receipt_no=sale.receipt_no,
        outbox_entry_id=entry_id,
        journal_seq=record.seq,
        created=True,
    )


def payload_sha256(payload_text: str) -> str:
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


def fingerprint_matches(payload_text: str, journal_data: str) -> bool:
    """``payload_text`` is the payload its sale's journal entry fingerprinted at commit time."""
    try:
        recorded = jsonutil.loads(journal_data).get("payload_sha256")
    except (ValueError, AttributeError):
        return False
    return bool(recorded) and recorded == payload_sha256(payload_text)


def _sale_entry(session: Session, offline_id: str) -> JournalEntry | None:
    return session.scalar(
        select(JournalEntry)
        .where(
            JournalEntry.ref == offline_id,
            JournalEntry.kind.in_((journal.JournalKind.SALE, journal.JournalKind.RETURN)),
        )
        .order_by(JournalEntry.seq)
        .limit(1)
    )


def sale_anchor(session: Session, offline_id: str) -> str | None:
    """``<seq>:<hash>`` of the journal entry the sale ``offline_id`` was committed with."""
    entry = _sale_entry(session, offline_id)
    return f"{entry.seq}:{entry.hash}" if entry is not None else None


def journaled_fingerprint_matches(session: Session, offline_id: str, payload_text: str) -> bool:
    """The sale ``offline_id``'s journal entry fingerprinted exactly ``payload_text``."""
    entry = _sale_entry(session, offline_id)
    return entry is not None and fingerprint_matches(payload_text, entry.data)


_invoices = cast(Table, PosInvoice.__table__)
_items = cast(Table, PosInvoiceItem.__table__)
_shifts = cast(Table, PosOpeningEntry.__table__)
_outbox = cast(Table, OutboxEntry.__table__)
_customers = cast(Table, Customer.__table__)


def _one_value(column: Any, *where: Any) -> Any:
    return select(column).where(*where).limit(1).scalar_subquery()


# Everything commit_sale reads before writing, in one round trip (each part one index lookup).
_CONTEXT = select(
    _one_value(_invoices.c.id, _invoices.c.offline_id == bindparam("offline_id")).label(
        "existing_id"
    ),
    _one_value(_shifts.c.id, _shifts.c.offline_id == bindparam("shift")).label("shift_id"),
    _one_value(_shifts.c.status, _shifts.c.offline_id == bindparam("shift")).label("shift_status"),
    _one_value(_shifts.c.pos_profile, _shifts.c.offline_id == bindparam("shift")).label(
        "pos_profile"
    ),
    _one_value(
        _outbox.c.id,
        _outbox.c.doctype == OPENING_DOCTYPE,
        _outbox.c.offline_id == bindparam("shift"),
    ).label("opening_entry_id"),
    # A customer created on this till and not yet in ERPNext: the sale waits for it.
    select(_outbox.c.id)
    .select_from(
        _customers.join(
            _outbox,
            and_(
                _outbox.c.doctype == CUSTOMER_DOCTYPE,
                _outbox.c.offline_id == _customers.c.offline_id,
            ),
        )
    )
    .where(
        _customers.c.name == bindparam("customer"),
        _customers.c.sync_state == CustomerSyncState.PENDING,
    )
    .limit(1)
    .scalar_subquery()
    .label("customer_entry_id"),
)
_ORIGINAL = select(
    _invoices.c.id, _invoices.c.is_return, _invoices.c.customer, _invoices.c.offline_id
).where(_invoices.c.offline_id == bindparam("offline_id"))
_ORIGINAL_LINES = select(_items.c.id).where(_items.c.invoice_id == bindparam("invoice_id"))
_ORIGINAL_ENTRY = (
    select(_outbox.c.id)
    .where(_outbox.c.offline_id == bindparam("offline_id"))
    .order_by(_outbox.c.id)
    .limit(1)
)
_INSERT_INVOICE = insert(_invoices)
_INSERT_ITEM = insert(_items)
_INSERT_TAX = insert(cast(Table, PosInvoiceTax.__table__))
_INSERT_PAYMENT = insert(cast(Table, PosInvoicePayment.__table__))


def _original_sale(conn: Connection, sale: SaleDraft) -> tuple[int, int]:
    """The original's row id and its outbox entry id, once the return is known to fit it."""
    assert sale.return_against is not None  # checked in SaleDraft
    original = conn.execute(_ORIGINAL, {"offline_id": sale.return_against}).first()
    if original is None:
        raise SaleError(f"return against unknown sale {sale.return_against}")
    if original.is_return:
        raise SaleError(f"sale {sale.return_against} is itself a return")
    if original.customer != sale.customer:
        # ERPNext refuses a return to another customer (validate_return_against).
        raise SaleError(f"return customer {sale.customer} differs from {original.customer}")
    own_lines = set(conn.execute(_ORIGINAL_LINES, {"invoice_id": original.id}).scalars())
    for ref in sale.original_item_ids:
        if ref is not None and ref not in own_lines:
            raise SaleError(f"line {ref} is not a line of sale {sale.return_against}")
    entry_id = conn.execute(_ORIGINAL_ENTRY, {"offline_id": original.offline_id}).scalar()
    if entry_id is None:
        raise SaleError(f"original sale {original.offline_id} has no outbox entry")
    return int(original.id), int(entry_id)


def _invoice_row(
    sale: SaleDraft, shift_id: int, pos_profile: str, original_id: int | None, payload_text: str
) -> dict[str, Any]:
    totals, inputs = sale.totals, sale.invoice
    return {
        "offline_id": sale.offline_id,
        "receipt_no": sale.receipt_no,
        "shift_id": shift_id,
        "pos_profile": pos_profile,
        "customer": sale.customer,
        "cashier": sale.cashier,
        "posting_date": sale.posting.date(),
        "posting_time": sale.posting.time(),
        "is_return": sale.is_return,
        "return_against_id": original_id,
        "status": SaleStatus.RETURN if sale.is_return else SaleStatus.PAID,
        "total_qty": totals.total_qty,
        "total": totals.total,
        "net_total": totals.net_total,
        "total_taxes_and_charges": totals.total_taxes_and_charges,
        "discount_amount": totals.discount_amount,
        "additional_discount_percentage": totals.additional_discount_percentage,
        "apply_discount_on": inputs.apply_discount_on.value,
        "grand_total": totals.grand_total,
        "rounding_adjustment": totals.rounding_adjustment,
        "rounded_total": totals.rounded_total,
        "paid_amount": totals.paid_amount,
        "change_amount": totals.change_amount,
        "write_off_amount": totals.write_off_amount,
        "loyalty_program": sale.loyalty_program,
        "loyalty_points": sale.loyalty_points,
        "loyalty_amount": inputs.loyalty_amount,
        "loyalty_earned": sale.loyalty_earned,
        "payload": payload_text,
    }


def _child_rows(
    sale: SaleDraft, sale_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The item, tax and payment rows, each list with one set of keys (for executemany)."""
    totals, inputs = sale.totals, sale.invoice
    refs = sale.original_item_ids or (None,) * len(inputs.items)
    items = [
        {
            "invoice_id": sale_id,
            "idx": n,
            "item_code": line.item_code,
            "item_name": line.item_name or line.item_code,
            "qty": result.qty,
            "uom": line.uom,
            "conversion_factor": line.conversion_factor,
            "price_list_rate": result.price_list_rate,
            "discount_percentage": result.discount_percentage,
            "discount_amount": result.discount_amount,
            "rate": result.rate,
            "amount": result.amount,
            "net_rate": result.net_rate,
            "net_amount": result.net_amount,
            "distributed_discount_amount": result.distributed_discount_amount,
            "item_tax_template": line.item_tax_template,
            "item_tax_rate": _json_object(line.item_tax_rate),
            "original_item_id": ref,
        }
        for n, (line, result, ref) in enumerate(
            zip(inputs.items, totals.items, refs, strict=True), start=1
        )
    ]
    taxes = [
        {
            "invoice_id": sale_id,
            "idx": n,
            "charge_type": tax.charge_type.value,
            "account_head": tax.account_head,
            "description": tax.description,
            "rate": tax.rate,
            "row_id": tax.row_id,
            "included_in_print_rate": tax.included_in_print_rate,
            "cost_center": tax_in.cost_center,
            "tax_amount": tax.tax_amount,
            "tax_amount_after_discount_amount": tax.tax_amount_after_discount_amount,
            "total": tax.total,
            "item_wise_tax_detail": _json_object(
                {code: list(pair) for code, pair in tax.item_wise_tax_detail.items()}
            ),
        }
        for n, (tax_in, tax) in enumerate(zip(inputs.taxes, totals.taxes, strict=True), start=1)
    ]
    payments = [
        {
            "invoice_id": sale_id,
            "idx": n,
            "mode_of_payment": payment.mode_of_payment,
            "type": payment.type or None,
            "account": payment.account,
            "amount": payment.amount,
        }
        for n, payment in enumerate(inputs.payments, start=1)
    ]
    return items, taxes, payments


def _json_object(value: Mapping[str, Any]) -> str:
    return jsonutil.dumps_payload(dict(value)) if value else "{}"


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

"""The receipt journal: find any past sale on this till the way a cashier remembers it.

A customer comes back with a crumpled receipt, or without one: "this morning, about 12 dollars,
the milk". One search box takes what the cashier types, term by term, and every term must match
(``2026-12-07 milk`` is the sales of that day with milk on them). A term is read every way it can
be meant, and a sale matches the term if any reading does:

- a receipt number as printed, in any case (``demo1-000054``), or just its number (``54``), or a
  sale's offline id;
- a date as the receipt prints it (``2026-12-07``), ``today`` or ``yesterday``, in the store's
  time zone; a time as printed (``14:05``: that minute), or an hour (``14h``);
- an amount typed in the store's number style (``12,50`` in Quebec): the total the customer paid
  or was refunded, as printed (the rounded total when the store rounds);
- a customer's name, id or phone (part of it), an item's code, barcode (scanned at the journal)
  or part of its name; a number of fewer than four digits is not looked for inside names.

Newest first; the number of hits is capped, and the result says when there were more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Float, and_, cast, false, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from appliance.counter.typed_numbers import NumberStyle, TypedNumberError, parse_typed
from appliance.store.models import (
    Customer,
    ItemBarcode,
    OutboxEntry,
    OutboxState,
    PosInvoice,
    PosInvoiceItem,
)
from appliance.store.sales import SALE_DOCTYPES

DEFAULT_LIMIT = 50
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MINUTE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_HOUR = re.compile(r"^([01]?\d|2[0-3])h$", re.IGNORECASE)
_DIGITS = re.compile(r"^\d{1,9}$")
_RECEIPT = re.compile(r"^[A-Za-z0-9_]+-\d+$")
_SHORTEST_DIGITS_IN_A_NAME = 4  # a phone number's tail, a customer's number


@dataclass(frozen=True)
class ReceiptHit:
    """One past sale as the journal lists it."""

    receipt_no: str
    offline_id: str
    posted_at: datetime  # the store's local time, as printed on the receipt
    customer: str  # the customer's name (a till-created customer's too), not its id
    total: Decimal  # what was paid (negative: refunded), as printed
    is_return: bool
    lines: int
    synced: bool


@dataclass(frozen=True)
class JournalPage:
    hits: tuple[ReceiptHit, ...]
    more: bool  # more sales matched than are listed: the cashier should narrow the search


def find_receipts(
    session: Session,
    text: str,
    *,
    style: NumberStyle,
    today: date,
    rounded: bool = True,
    limit: int = DEFAULT_LIMIT,
) -> JournalPage:
    """The sales matching every term of ``text``, newest first (all recent sales if it is empty).

    ``today`` is the store's date (its time zone, not the machine's); ``rounded`` says whether the
    store prints rounded totals (then the amount a cashier remembers is the rounded one).
    """
    paid = PosInvoice.rounded_total if rounded else PosInvoice.grand_total
    conditions = [_term(word, style=style, today=today, paid=paid) for word in text.split()]
    lines = (
        select(func.count(PosInvoiceItem.id))
        .where(PosInvoiceItem.invoice_id == PosInvoice.id)
        .scalar_subquery()
    )
    query = (
        select(PosInvoice, Customer.customer_name, lines)
        .outerjoin(Customer, Customer.name == PosInvoice.customer)
        .where(*conditions)
        .order_by(PosInvoice.posting_date.desc(), PosInvoice.posting_time.desc())
        .order_by(PosInvoice.id.desc())
        .limit(limit + 1)
    )
    rows = session.execute(query).all()
    synced = _synced(session, [row[0].offline_id for row in rows[:limit]])
    hits = tuple(
        ReceiptHit(
            receipt_no=sale.receipt_no,
            offline_id=sale.offline_id,
            posted_at=datetime.combine(sale.posting_date, sale.posting_time),
            customer=name or sale.customer,
            total=sale.rounded_total if rounded and sale.rounded_total else sale.grand_total,
            is_return=sale.is_return,
            lines=count,
            synced=sale.offline_id in synced,
        )
        for sale, name, count in rows[:limit]
    )
    return JournalPage(hits, more=len(rows) > limit)


def _term(
    word: str,
    *,
    style: NumberStyle,
    today: date,
    paid: ColumnElement[Decimal] | InstrumentedAttribute[Decimal],
) -> ColumnElement[bool]:
    """What one typed word can mean, as one condition (any of its readings)."""
    readings: list[ColumnElement[bool]] = [_by_receipt(word)]
    day = _day(word, today)
    if day is not None:
        readings.append(PosInvoice.posting_date == day)
    readings.extend(_by_time(word))
    readings.extend(_by_amount(word, style, paid))
    readings.append(_by_party_or_item(word))
    return or_(*readings)


def _by_receipt(word: str) -> ColumnElement[bool]:
    if _RECEIPT.match(word):
        return func.upper(PosInvoice.receipt_no) == word.upper()
    if _DIGITS.match(word):
        # "54" is receipt DEMO1-000054 (any terminal prefix: a return's own number included).
        return PosInvoice.receipt_no.like(f"%-{int(word):06d}")
    return PosInvoice.offline_id == word


def _day(word: str, today: date) -> date | None:
    lowered = word.lower()
    if lowered == "today":
        return today
    if lowered == "yesterday":
        return today - timedelta(days=1)
    match = _DATE.match(word)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _by_time(word: str) -> list[ColumnElement[bool]]:
    match = _MINUTE.match(word)
    if match is not None:
        start = time(int(match[1]), int(match[2]))
        end = (datetime.combine(date.min, start) + timedelta(minutes=1)).time()
    else:
        match = _HOUR.match(word)
        if match is None:
            return []
        start = time(int(match[1]))
        end = (datetime.combine(date.min, start) + timedelta(hours=1)).time()
    if end <= start:  # 23:59 or 23h: to the end of the day
        return [PosInvoice.posting_time >= start]
    return [and_(PosInvoice.posting_time >= start, PosInvoice.posting_time < end)]


def _by_amount(
    word: str, style: NumberStyle, paid: ColumnElement[Decimal] | InstrumentedAttribute[Decimal]
) -> list[ColumnElement[bool]]:
    if _MINUTE.match(word) or _DATE.match(word):
        return []
    try:
        amount = parse_typed(word, style)
    except TypedNumberError:
        return []
    # Money is kept as its text ("12.50"): compared as text, "12,5" or "12" would find nothing.
    # As numbers: two decimal strings of a till's size read as the same double only when they
    # are the same amount. A refund is printed as a negative total; the cashier types what
    # went back over the counter.
    number = func.abs(cast(paid, Float))
    return [number == literal(float(abs(amount)), Float)]


def _by_party_or_item(word: str) -> ColumnElement[bool]:
    if not word.strip("%_"):
        return false()
    # Each as one list the journal is checked against (not a subquery per sale): SQLite builds
    # it once per search, and a year's journal is read once, not once per sale and term.
    sold = PosInvoice.id.in_(
        select(PosInvoiceItem.invoice_id).where(
            or_(
                func.upper(PosInvoiceItem.item_code) == word.upper(),
                # A product scanned at the journal: the sales of its item.
                PosInvoiceItem.item_code.in_(
                    select(ItemBarcode.parent).where(ItemBarcode.barcode == word)
                ),
            )
        )
    )
    if word.isdigit() and len(word) < _SHORTEST_DIGITS_IN_A_NAME:
        return sold  # "54" is a receipt or an amount, not every item named "#54"
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # Its own alias: the listing joins Customer too, and would swallow an unaliased one.
    party = aliased(Customer)
    customer = PosInvoice.customer.in_(
        select(party.name).where(
            or_(
                party.customer_name.ilike(pattern, escape="\\"),
                party.mobile_no.like(pattern, escape="\\"),
            )
        )
    )
    named = PosInvoice.id.in_(
        select(PosInvoiceItem.invoice_id).where(
            PosInvoiceItem.item_name.ilike(pattern, escape="\\")
        )
    )
    return or_(PosInvoice.customer.ilike(pattern, escape="\\"), customer, sold, named)


def _synced(session: Session, offline_ids: Sequence[str]) -> set[str]:
    if not offline_ids:
        return set()
    done = select(OutboxEntry.offline_id).where(
        OutboxEntry.offline_id.in_(offline_ids),
        OutboxEntry.doctype.in_(SALE_DOCTYPES),
        OutboxEntry.state == OutboxState.DONE,
    )
    return set(session.scalars(done))

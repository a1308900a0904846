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

Each reading has an index (migration 0013_journal_search) that names the sales it could match;
the term naming fewest drives the search, and every term is still checked on those sales with
the conditions below, so the indexes change the cost, never the result (docs/store.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from appliance.counter.typed_numbers import NumberStyle, TypedNumberError, parse_typed
from appliance.store import search_index
from appliance.store.models import (
    Customer,
    ItemBarcode,
    OutboxEntry,
    OutboxState,
    PosInvoice,
    PosInvoiceItem,
)
from appliance.store.sales import SALE_DOCTYPES
from appliance.store.search_index import CUSTOMERS, SALE_CUSTOMERS, SALE_LINES, TRIGRAM_MIN

DEFAULT_LIMIT = 50
# A term whose indexes name at most this many sales drives the search; a term matching more
# (a busy hour, an item in every basket) is checked while the sales are read newest first.
NARROW = 2000
_TAIL = 7  # "-000054": the indexed end of a receipt number (0013_journal_search)
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
    narrow: int = NARROW,
) -> JournalPage:
    """The sales matching every term of ``text``, newest first (all recent sales if it is empty).

    ``today`` is the store's date (its time zone, not the machine's); ``rounded`` says whether the
    store prints rounded totals (then the amount a cashier remembers is the rounded one).
    ``narrow``: a term whose indexes name at most this many sales drives the search (0: none
    does, every sale is read newest first; the results are the same).
    """
    paid = PosInvoice.rounded_total if rounded else PosInvoice.grand_total
    trigram = _trigram(session)
    terms = [
        _term(word, style=style, today=today, paid=paid, trigram=trigram) for word in text.split()
    ]
    # The sales' ids first: sorting whole rows would carry each sale's payload along.
    query = (
        select(PosInvoice.id)
        .where(*(term.check for term in terms))
        .order_by(PosInvoice.posting_date.desc(), PosInvoice.posting_time.desc())
        .order_by(PosInvoice.id.desc())
        .limit(limit + 1)
    )
    driver = _narrowest(session, terms, narrow)
    day = None if driver is not None else _one_day(session, terms, narrow)
    if driver is not None:
        # Every term is still checked on each of these sales: the index only chose them.
        query = query.where(PosInvoice.id.in_(driver))
    elif day is not None:
        query = query.where(day)  # a busy day: that day's part of the index, newest first
    else:
        # Many sales match every term: read them newest first, and stop at a page.
        query = query.with_hint(PosInvoice, "INDEXED BY ix_pos_invoices_posted", "sqlite")
    ids = list(session.scalars(query))
    lines = (
        select(func.count(PosInvoiceItem.id))
        .where(PosInvoiceItem.invoice_id == PosInvoice.id)
        .scalar_subquery()
    )
    # The columns listed, not the whole sale: its payload is most of a row's bytes.
    listed = select(
        PosInvoice.id,
        PosInvoice.receipt_no,
        PosInvoice.offline_id,
        PosInvoice.posting_date,
        PosInvoice.posting_time,
        PosInvoice.customer,
        PosInvoice.rounded_total,
        PosInvoice.grand_total,
        PosInvoice.is_return,
        Customer.customer_name,
        lines,
    ).outerjoin(Customer, Customer.name == PosInvoice.customer)
    found = {row.id: row for row in session.execute(listed.where(PosInvoice.id.in_(ids)))}
    rows = [found[i] for i in ids]
    synced = _synced(session, [row.offline_id for row in rows[:limit]])
    hits = tuple(
        ReceiptHit(
            receipt_no=row.receipt_no,
            offline_id=row.offline_id,
            posted_at=datetime.combine(row.posting_date, row.posting_time),
            customer=row.customer_name or row.customer,
            total=row.rounded_total if rounded and row.rounded_total else row.grand_total,
            is_return=row.is_return,
            lines=int(row[-1]),
            synced=row.offline_id in synced,
        )
        for row in rows[:limit]
    )
    return JournalPage(hits, more=len(rows) > limit)


@dataclass(frozen=True)
class _Term:
    """One typed word: the condition a sale must meet, and where its indexes find such sales.

    ``found`` holds one id query per reading (sale ids, a superset of the sales that meet it);
    None when a reading has no index (a name part shorter than the trigram index reads).
    """

    check: ColumnElement[bool]
    found: tuple[Select[int], ...] | None
    day: date | None = None  # a date's term: its day is the first of ``found``


def _narrowest(session: Session, terms: Sequence[_Term], narrow: int) -> list[int] | None:
    """The ids of the term whose indexes name the fewest sales, if one names at most ``narrow``."""
    best: set[int] | None = None
    for term in terms:
        if term.found is None:
            continue
        ids = _ids(session, term.found, narrow)
        if ids is not None and (best is None or len(ids) < len(best)):
            best = ids
    return None if best is None else sorted(best)


def _one_day(session: Session, terms: Sequence[_Term], narrow: int) -> ColumnElement[bool] | None:
    """For a date's term whose day has too many sales to list: that day's sales (a range of the
    index the search reads, newest first), with the few its other readings name."""
    for term in terms:
        if term.day is None or term.found is None:
            continue
        ids = _ids(session, term.found[1:], narrow)
        if ids is not None:
            day = PosInvoice.posting_date == term.day
            return or_(day, PosInvoice.id.in_(sorted(ids))) if ids else day
    return None


def _ids(session: Session, queries: Sequence[Select[int]], narrow: int) -> set[int] | None:
    """The sale ids the queries name, or None if they name more than ``narrow``."""
    ids: set[int] = set()
    for query in queries:
        found = session.scalars(query.limit(narrow + 1)).all()
        ids.update(found)
        if len(found) > narrow or len(ids) > narrow:  # (a sale's lines: one id, many rows)
            return None
    return ids


def _term(
    word: str,
    *,
    style: NumberStyle,
    today: date,
    paid: ColumnElement[Decimal] | InstrumentedAttribute[Decimal],
    trigram: bool,
) -> _Term:
    """What one typed word can mean, as one condition (any of its readings)."""
    readings: list[ColumnElement[bool]] = []
    day = _day(word, today)
    if day is not None:
        readings.append(PosInvoice.posting_date == day)  # first: see _Term.day
    readings.append(_by_receipt(word))
    readings.extend(_by_time(word))
    readings.extend(_by_amount(word, style, paid))
    found: list[Select[int]] = [select(PosInvoice.id).where(r) for r in readings]
    party, lookups = _by_party_or_item(word, trigram)
    return _Term(or_(*readings, party), None if lookups is None else (*found, *lookups), day)


def _by_receipt(word: str) -> ColumnElement[bool]:
    if _RECEIPT.match(word):
        return func.upper(PosInvoice.receipt_no) == word.upper()
    if _DIGITS.match(word):
        # "54" is receipt DEMO1-000054 (any terminal prefix: a return's own number included).
        # The last seven characters are indexed (0013_journal_search): they narrow, LIKE decides.
        tail = f"-{int(word):06d}"
        return and_(
            # The index's own expression, its length not a parameter: else it is not used.
            func.substr(PosInvoice.receipt_no, literal_column(str(-_TAIL))) == tail[-_TAIL:],
            PosInvoice.receipt_no.like(f"%{tail}"),
        )
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


def _by_party_or_item(
    word: str, trigram: bool
) -> tuple[ColumnElement[bool], list[Select[int]] | None]:
    """The customer and item readings, and the id queries of their indexes (None: no index)."""
    if not word.strip("%_"):
        return false(), []
    code = or_(
        func.upper(PosInvoiceItem.item_code) == word.upper(),
        # A product scanned at the journal: the sales of its item.
        PosInvoiceItem.item_code.in_(select(ItemBarcode.parent).where(ItemBarcode.barcode == word)),
    )
    sold = select(PosInvoiceItem.invoice_id).where(code)
    if word.isdigit() and len(word) < _SHORTEST_DIGITS_IN_A_NAME:
        # "54" is a receipt or an amount, not every item named "#54"
        return _has_line(code), [sold]
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    named = PosInvoiceItem.item_name.ilike(pattern, escape="\\")
    # Its own alias: the listing joins Customer too, and would swallow an unaliased one.
    party = aliased(Customer, name="party")
    people = select(party.name).where(
        or_(
            party.customer_name.ilike(pattern, escape="\\"),
            party.mobile_no.like(pattern, escape="\\"),
        )
    )
    indexed = trigram and len(word) >= TRIGRAM_MIN
    if indexed:
        # The trigram index names the customers holding the word; LIKE above still decides.
        people = people.where(literal_column("party.rowid").in_(_fts_rowids(CUSTOMERS, word)))
    check = or_(
        PosInvoice.customer.ilike(pattern, escape="\\"),
        PosInvoice.customer.in_(people),
        _has_line(or_(code, named)),
    )
    if not indexed:
        return check, None
    lookups = [
        sold,
        _fts_rowids(SALE_CUSTOMERS, word),
        select(PosInvoice.id).where(PosInvoice.customer.in_(people)),
        _fts_rowids(SALE_LINES, word, PosInvoiceItem.invoice_id, PosInvoiceItem.id),
    ]
    return check, lookups


def _has_line(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The sale has a line meeting ``condition``: looked up by the sale's id, per sale."""
    return (
        select(PosInvoiceItem.id)
        .where(PosInvoiceItem.invoice_id == PosInvoice.id, condition)
        .exists()
    )


def _fts_rowids(
    fts: str,
    word: str,
    wanted: InstrumentedAttribute[int] | None = None,
    rowid: InstrumentedAttribute[int] | None = None,
) -> Select[int]:
    """The rows whose indexed text holds ``word`` in any case (a trigram phrase query): their
    rowids, or ``wanted`` of the content rows they are (joined, not ``IN``: a LIMIT then stops
    the index's walk instead of waiting for every match)."""
    index = table(fts, column("rowid"))
    phrase = '"' + word.replace('"', '""') + '"'
    match = literal_column(fts).op("MATCH")(phrase)
    if wanted is None or rowid is None:
        return select(index.c.rowid).where(match)
    return select(wanted).join_from(index, rowid.class_, rowid == index.c.rowid).where(match)


def _trigram(session: Session) -> bool:
    """Whether the name indexes read substrings (SQLite >= 3.34); else names are read per sale."""
    try:
        return search_index.tokenizer(session) is search_index.Tokenizer.TRIGRAM
    except LookupError:
        return False


def _synced(session: Session, offline_ids: Sequence[str]) -> set[str]:
    if not offline_ids:
        return set()
    done = select(OutboxEntry.offline_id).where(
        OutboxEntry.offline_id.in_(offline_ids),
        OutboxEntry.doctype.in_(SALE_DOCTYPES),
        OutboxEntry.state == OutboxState.DONE,
    )
    return set(session.scalars(done))

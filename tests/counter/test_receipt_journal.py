"""The receipt journal finds a past sale the way a cashier remembers it (issue 19, item 1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal as D
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from appliance.cli import main
from appliance.counter.checkout import Checkout
from appliance.counter.receipt_journal import JournalPage, find_receipts
from appliance.counter.receipts import find_sale
from appliance.counter.typed_numbers import NumberStyle
from appliance.demo.masters import ean13
from appliance.sales import cart as carts
from appliance.sales.cart import Cart
from appliance.sales.model import PaymentLine
from appliance.sales.till import Till
from appliance.store import search_index
from appliance.store.db import create_db_engine
from appliance.store.migrate import alembic_config
from appliance.store.models import Customer, OutboxEntry, OutboxState, PosInvoice

CASHIER = "ana@example.com"
SOAP = ean13("060000000010")  # SKU-000010 Pure Dish Soap #10
COFFEE = ean13("060000000011")  # SKU-000011 Pure Coffee Beans #11
ONTARIO = NumberStyle()
QUEBEC = NumberStyle.from_format("# ###,##")


def _sell(checkout: Checkout, at: datetime, codes: tuple[str, ...], customer: str = "") -> str:
    checkout.clock = lambda: at
    cart = checkout.new_cart()
    if customer:
        cart = checkout.read(partial(_customer, cart, customer))
    for code in codes:
        cart = checkout.read(partial(_scan, cart, code))
    cart = carts.add_payment(cart, PaymentLine("Cash", D(500), type="Cash"))
    return checkout.commit(cart, CASHIER).receipt_no


def _scan(cart: Cart, code: str, till: Till) -> Cart:
    return till.scan(cart, code)


def _customer(cart: Cart, name: str, till: Till) -> Cart:
    return till.set_customer(cart, name)


@pytest.fixture
def day(checkout: Checkout, data_dir: Path) -> dict[str, str]:
    """Four sales over two days; one to a named customer."""
    checkout.clock = lambda: datetime(2026, 12, 6, 8, 0)
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        customer = session.scalars(
            select(Customer).where(Customer.customer_name.like("% 00007"))
        ).one()
        who = customer.name
    engine.dispose()
    return {
        "yesterday": _sell(checkout, datetime(2026, 12, 6, 17, 40), (SOAP,)),
        "morning": _sell(checkout, datetime(2026, 12, 7, 9, 5), (SOAP, COFFEE)),
        "customer": _sell(checkout, datetime(2026, 12, 7, 9, 5, 30), (COFFEE,), customer=who),
        "noon": _sell(checkout, datetime(2026, 12, 7, 12, 30), (COFFEE, COFFEE)),
        "who": who,
    }


def _find(data_dir: Path, text: str, style: NumberStyle = ONTARIO, limit: int = 50) -> JournalPage:
    engine = create_db_engine(data_dir / "pos.db")
    try:
        with Session(engine) as session:
            return find_receipts(session, text, style=style, today=date(2026, 12, 7), limit=limit)
    finally:
        engine.dispose()


def _numbers(page: JournalPage) -> list[str]:
    return [hit.receipt_no for hit in page.hits]


def test_by_receipt_number_in_any_case_or_just_its_number(
    day: dict[str, str], data_dir: Path
) -> None:
    assert _numbers(_find(data_dir, day["noon"].lower())) == [day["noon"]]
    number = str(int(day["morning"].rsplit("-", 1)[1]))  # "2", as a cashier reads it
    assert day["morning"] in _numbers(_find(data_dir, number))


def test_by_date_time_and_newest_first(day: dict[str, str], data_dir: Path) -> None:
    assert _numbers(_find(data_dir, "")) == [
        day["noon"],
        day["customer"],
        day["morning"],
        day["yesterday"],
    ]
    assert _numbers(_find(data_dir, "yesterday")) == [day["yesterday"]]
    assert _numbers(_find(data_dir, "2026-12-06")) == [day["yesterday"]]
    assert _numbers(_find(data_dir, "today 09:05")) == [day["customer"], day["morning"]]
    assert _numbers(_find(data_dir, "12h")) == [day["noon"]]
    assert _numbers(_find(data_dir, "2026-12-07 17:40")) == []


def test_by_amount_typed_in_the_stores_style(day: dict[str, str], data_dir: Path) -> None:
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        paid = session.scalar(
            select(PosInvoice.rounded_total).where(PosInvoice.receipt_no == day["noon"])
        )
    engine.dispose()
    assert paid is not None
    assert day["noon"] in _numbers(_find(data_dir, f"{paid:.2f}"))
    quebec = f"{paid:.2f}".replace(".", ",")
    assert day["noon"] in _numbers(_find(data_dir, quebec, QUEBEC))


def test_by_customer_or_item_and_every_term_must_match(day: dict[str, str], data_dir: Path) -> None:
    page = _find(data_dir, "00007")
    assert _numbers(page) == [day["customer"]]
    assert page.hits[0].customer.endswith("00007")  # the name, never an id
    assert _numbers(_find(data_dir, "soap")) == [day["morning"], day["yesterday"]]
    assert _numbers(_find(data_dir, "today soap")) == [day["morning"]]
    assert _numbers(_find(data_dir, "today 09:05 coffee")) == [day["customer"], day["morning"]]
    assert _numbers(_find(data_dir, "yesterday coffee")) == []


def test_by_item_code(day: dict[str, str], data_dir: Path) -> None:
    assert _numbers(_find(data_dir, "sku-000011")) == [day["noon"], day["customer"], day["morning"]]
    assert _numbers(_find(data_dir, "SKU-000010")) == [day["morning"], day["yesterday"]]


def test_by_a_scanned_barcode(day: dict[str, str], data_dir: Path) -> None:
    assert _numbers(_find(data_dir, SOAP)) == [day["morning"], day["yesterday"]]


def test_a_short_number_is_a_receipt_or_an_amount_not_every_name_with_it(
    day: dict[str, str], data_dir: Path
) -> None:
    # "#10" and "#11" are in the items' names and "00007" in the customer's: "1" is receipt 1.
    assert _numbers(_find(data_dir, "1")) == [day["yesterday"]]


def test_more_than_a_page_says_so(day: dict[str, str], data_dir: Path) -> None:
    page = _find(data_dir, "", limit=2)
    assert len(page.hits) == 2 and page.more
    assert not _find(data_dir, "yesterday", limit=2).more


def test_synced_sales_are_marked(day: dict[str, str], data_dir: Path) -> None:
    assert not any(hit.synced for hit in _find(data_dir, "").hits)
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        session.execute(update(OutboxEntry).values(state=OutboxState.DONE))
        session.commit()
    engine.dispose()
    assert all(hit.synced for hit in _find(data_dir, "").hits)


def test_a_receipt_number_in_lower_case_opens_the_sale(day: dict[str, str], data_dir: Path) -> None:
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        assert find_sale(session, day["noon"].lower()).receipt_no == day["noon"]
    engine.dispose()


def test_the_cli_lists_them(
    day: dict[str, str], data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["receipt", "find", "2026-12-07"]) == 0
    out = capsys.readouterr().out
    assert day["noon"] in out and day["yesterday"] not in out
    assert main(["receipt", "find", "no-such-thing-anywhere"]) == 1
    assert "no sale" in capsys.readouterr().err


def test_an_amount_typed_without_its_trailing_zeros_finds_the_sale(
    day: dict[str, str], data_dir: Path
) -> None:
    """The cashier says the total as they heard it: 12,5 (Quebec) or 12.5 or 12 for a sale of
    12.50 or 12.00; the journal keeps it as text, the search compares amounts."""
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        for key, total in (("noon", D("12.50")), ("morning", D("12.00"))):
            session.execute(
                update(PosInvoice)
                .where(PosInvoice.receipt_no == day[key])
                .values(rounded_total=total)
            )
        session.commit()
    engine.dispose()
    assert day["noon"] in _numbers(_find(data_dir, "12,5", QUEBEC))
    assert day["noon"] in _numbers(_find(data_dir, "12.5"))
    assert day["noon"] in _numbers(_find(data_dir, "12.50"))
    assert day["morning"] in _numbers(_find(data_dir, "12"))
    assert day["morning"] in _numbers(_find(data_dir, "12,00", QUEBEC))
    assert day["noon"] not in _numbers(_find(data_dir, "12"))


# -- the indexed search (migration 0013_journal_search) -------------------------------------------
TERMS = (
    "",
    "1",
    "2",
    "today",
    "yesterday",
    "2026-12-07",
    "09:05",
    "9h",
    "12h",
    "sku-000011",
    SOAP,
    "soap",
    "coff",
    "co",
    "00007",
    "customer",
    "today coffee",
    "09:05 00007",
    "no-such-thing",
    "%",
)


def _find_with(data_dir: Path, text: str, narrow: int) -> JournalPage:
    engine = create_db_engine(data_dir / "pos.db")
    try:
        with Session(engine) as session:
            return find_receipts(
                session, text, style=ONTARIO, today=date(2026, 12, 7), narrow=narrow
            )
    finally:
        engine.dispose()


def test_the_index_lookups_find_what_reading_every_sale_finds(
    day: dict[str, str], data_dir: Path
) -> None:
    """narrow=0: no term drives the search from its index, every sale is read newest first."""
    receipt = day["customer"]
    offline = _find(data_dir, receipt).hits[0].offline_id
    for text in (*TERMS, receipt.lower(), offline, str(_find(data_dir, receipt).hits[0].total)):
        indexed = _find_with(data_dir, text, narrow=1000)
        assert indexed == _find_with(data_dir, text, narrow=0), text
        # narrow=1: a day's sales are too many to list, the day's part of the index is read.
        assert indexed == _find_with(data_dir, text, narrow=1), text
    assert _numbers(_find_with(data_dir, offline, narrow=1000)) == [receipt]


def _alembic(data_dir: Path, revision: str) -> None:
    engine = create_db_engine(data_dir / "pos.db")
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            if revision == "head":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    finally:
        engine.dispose()


def test_sales_kept_before_the_upgrade_are_indexed_by_it(
    day: dict[str, str], data_dir: Path
) -> None:
    _alembic(data_dir, "0012_loyalty_credit")
    _alembic(data_dir, "head")
    assert _numbers(_find(data_dir, "coffee")) == [day["noon"], day["customer"], day["morning"]]
    assert _numbers(_find(data_dir, day["who"][2:])) == [day["customer"]]
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        assert search_index.integrity_problems(session) == []
    engine.dispose()


def test_a_sale_whose_customer_erpnext_renamed_is_found_by_the_new_name(
    day: dict[str, str], data_dir: Path
) -> None:
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        session.execute(
            update(PosInvoice)
            .where(PosInvoice.receipt_no == day["noon"])
            .values(customer="CUST-RENAMED-0042")
        )
        session.commit()
    engine.dispose()
    assert _numbers(_find(data_dir, "renamed-00")) == [day["noon"]]
    assert day["noon"] not in _numbers(_find(data_dir, "walk"))


def test_a_receipt_past_999999_is_found_by_its_number(day: dict[str, str], data_dir: Path) -> None:
    """The index holds a number's last seven characters ("-000054"); a longer one is still
    found whole, and not by its tail."""
    prefix = day["noon"].rsplit("-", 1)[0]
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        session.execute(
            update(PosInvoice)
            .where(PosInvoice.receipt_no == day["noon"])
            .values(receipt_no=f"{prefix}-1234567")
        )
        session.commit()
    engine.dispose()
    for narrow in (0, 1000):
        assert _numbers(_find_with(data_dir, "1234567", narrow)) == [f"{prefix}-1234567"]
        assert _numbers(_find_with(data_dir, "234567", narrow)) == []
        assert _numbers(_find_with(data_dir, f"{prefix.lower()}-1234567", narrow)) == [
            f"{prefix}-1234567"
        ]


def test_a_term_naming_few_sales_reads_no_whole_table(day: dict[str, str], data_dir: Path) -> None:
    """What keeps the search within its budget at 200,000 sales (bench/journal_bench.py): every
    statement a narrow term runs is an index lookup, never a pass over the sales or their lines."""
    hit = _find(data_dir, day["customer"]).hits[0]
    terms = (
        day["customer"].lower(),
        str(int(day["customer"].rsplit("-", 1)[1])),
        hit.offline_id,
        "2026-12-06",
        f"{hit.total:.2f}",
        "sku-000011",
        SOAP,
        "coffee",
        day["who"][2:],
        "00007",
    )
    engine = create_db_engine(data_dir / "pos.db")
    statements: list[tuple[str, Sequence[Any]]] = []

    def seen(_c: object, _cur: object, sql: str, params: Sequence[Any], *_a: object) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with Session(engine) as session:
            for text in terms:
                statements.clear()
                page = find_receipts(session, text, style=ONTARIO, today=date(2026, 12, 7))
                assert page.hits, text
                plans = [
                    str(row[-1])
                    for sql, params in list(statements)
                    for row in session.connection().exec_driver_sql(
                        "EXPLAIN QUERY PLAN " + sql, params
                    )
                ]
                scans = [p for p in plans if p.startswith("SCAN pos_invoice")]
                assert scans == [], (text, scans)
    finally:
        engine.dispose()

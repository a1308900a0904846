"""The SQL catalog answers what the in-memory catalog of the same documents answers."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from appliance.demo.masters import ACC_GST, ACC_LEVY, ACC_PST
from appliance.sales.barcode import ScanConfig
from appliance.sales.catalog import ApplyOn, MemoryCatalog
from appliance.sales.model import DiscountOn
from appliance.sales.till import PaymentMode
from appliance.store import search_index
from appliance.store.catalog import SqlCatalog, StoreNotReadyError, load_till_profile
from appliance.store.db import make_session_factory, unit_of_work
from appliance.store.masters import apply_masters, delete_masters
from appliance.store.search_index import Tokenizer, match_expression
from tests.store.demo_store import by_name, demo_docs, item_doc, memory_catalog, seeded_engine
from tests.store.factories import migrated_engine

DOCS = demo_docs()
ITEMS = by_name(DOCS, "Item")
CUSTOMERS = by_name(DOCS, "Customer")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = seeded_engine(tmp_path_factory.mktemp("catalog") / "pos.db")
    yield engine
    engine.dispose()


@pytest.fixture
def session(seeded: Engine) -> Iterator[Session]:
    with make_session_factory(seeded, read_only=True)() as s:
        yield s


@pytest.fixture
def catalog(session: Session) -> SqlCatalog:
    return SqlCatalog(session)


@pytest.fixture(scope="module")
def reference() -> MemoryCatalog:
    return memory_catalog(DOCS)


def test_every_item_barcode_and_price_matches_the_reference(
    catalog: SqlCatalog, reference: MemoryCatalog
) -> None:
    for code, doc in ITEMS.items():
        assert catalog.item(code) == reference.item(code)
        assert catalog.prices(code, "Standard Selling") == reference.prices(
            code, "Standard Selling"
        )
        for barcode in doc["barcodes"]:
            assert catalog.item_by_barcode(barcode["barcode"]) == reference.item_by_barcode(
                barcode["barcode"]
            )
    assert catalog.item("NOPE") is None and catalog.item_by_barcode("0000000000000") is None
    assert catalog.prices("SKU-000001", "Other List") == ()


def test_lookups_by_code_and_barcode(catalog: SqlCatalog) -> None:
    fuel = catalog.item("SKU-000001")
    assert fuel is not None
    assert (fuel.item_name, fuel.item_group, fuel.stock_uom, fuel.is_stock_item) == (
        "Regular Gasoline",
        "Fuel",
        "Litre",
        False,
    )
    boxed = next(d for d in ITEMS.values() if len(d["barcodes"]) == 2)
    unit_code, box_code = (b["barcode"] for b in boxed["barcodes"])
    unit = catalog.item_by_barcode(unit_code)
    box = catalog.item_by_barcode(box_code)
    assert unit is not None and box is not None
    assert (unit[0].item_code, unit[1]) == (boxed["item_code"], boxed["stock_uom"])
    assert (box[0].item_code, box[1]) == (boxed["item_code"], "Box")
    assert box[0].conversion_factor("Box") == D(12)
    plu = catalog.item_by_barcode("4011")
    assert plu is not None and plu[0].is_weighed and plu[1] == "Kg"
    price = catalog.prices("SKU-000001", "Standard Selling")
    assert [(p.uom, p.price_list_rate) for p in price] == [
        ("Litre", D(repr(by_name(DOCS, "Item Price")["PRICE-000001"]["price_list_rate"])))
    ]


def test_customers_trees_and_taxes_match_the_reference(
    catalog: SqlCatalog, reference: MemoryCatalog
) -> None:
    for name in CUSTOMERS:
        assert catalog.customer(name) == reference.customer(name)
    assert catalog.customer("Nobody") is None
    for group in ("Dairy", "Produce", "Fuel", "All Item Groups", "Unknown"):
        assert catalog.item_group_ancestors(group) == reference.item_group_ancestors(group)
    assert [g.name for g in catalog.item_group_ancestors("Dairy")] == [
        "Dairy",
        "Grocery",
        "All Item Groups",
    ]
    assert catalog.item_group_ancestors("Dairy")[0].taxes[0].item_tax_template == "Zero-rated food"
    for group in ("Individual", "Commercial", "All Customer Groups", "Unknown"):
        assert catalog.customer_group_ancestors(group) == reference.customer_group_ancestors(group)
    assert [t.name for t in catalog.territory_ancestors("British Columbia")] == [
        "British Columbia",
        "Canada",
        "All Territories",
    ]
    assert catalog.territory_ancestors("Quebec") == reference.territory_ancestors("Quebec")
    assert catalog.tax_rules() == reference.tax_rules()
    for name in by_name(DOCS, "Sales Taxes and Charges Template"):
        assert catalog.tax_template(name) == reference.tax_template(name)
    bc = catalog.tax_template("BC GST+PST - PPC")
    assert bc is not None and [r.account_head for r in bc.rows] == [ACC_LEVY, ACC_GST, ACC_PST]
    assert bc.rows[0].rate == D("0.1761") and bc.rows[1].row_id == 1
    for name in by_name(DOCS, "Item Tax Template"):
        assert catalog.item_tax_template(name) == reference.item_tax_template(name)
    no_levy = catalog.item_tax_template("No fuel levy")
    assert no_levy is not None and dict(no_levy.rates) == {ACC_LEVY: D(0)}
    assert catalog.tax_template("Nope") is None and catalog.item_tax_template("Nope") is None


def test_pricing_rules_for_groups_and_brands(catalog: SqlCatalog, reference: MemoryCatalog) -> None:
    dairy = catalog.pricing_rules_for("SKU-X", ("Dairy", "Grocery", "All Item Groups"), "")
    assert [r.name for r in dairy] == ["PRLE-0001"]
    assert dairy[0].apply_on is ApplyOn.ITEM_GROUP and dairy[0].discount_percentage == D(10)
    beverages = catalog.pricing_rules_for("SKU-X", ("Beverages", "All Item Groups"), "Kestrel")
    assert [r.name for r in beverages] == ["PRLE-0002", "PRLE-0003"]
    assert beverages[0].min_qty == D(6) and beverages[1].discount_amount == D(2)
    assert catalog.pricing_rules_for("SKU-X", ("Books",), "") == ()
    for code, doc in ITEMS.items():
        groups = tuple(g.name for g in catalog.item_group_ancestors(doc["item_group"]))
        assert catalog.pricing_rules_for(code, groups, doc["brand"]) == reference.pricing_rules_for(
            code, groups, doc["brand"]
        )


def test_caches_follow_master_changes_from_the_next_transaction(tmp_path: Path) -> None:
    engine = seeded_engine(tmp_path / "pos.db")
    factory = make_session_factory(engine)
    fuel = ITEMS["SKU-000001"]
    barcode = fuel["barcodes"][0]["barcode"]
    with make_session_factory(engine, read_only=True)() as session:
        catalog = SqlCatalog(session)
        assert len(catalog.pricing_rules_for("SKU-X", ("Dairy",), "")) == 1
        hit = catalog.item_by_barcode(barcode)
        assert hit is not None and hit[0].item_name == "Regular Gasoline"
        price = catalog.prices("SKU-000001", "Standard Selling")[0].price_list_rate
        with unit_of_work(factory) as uow:  # the agent, on its own connection
            delete_masters(uow.session, "Pricing Rule", ["PRLE-0001"])
            changed = fuel | {"item_name": "Regular 87"}
            apply_masters(
                uow.session,
                [changed, by_name(DOCS, "Item Price")["PRICE-000001"] | {"price_list_rate": 2.009}],
            )
            uow.commit()
        # Same read transaction: a consistent snapshot, answered from the caches.
        assert len(catalog.pricing_rules_for("SKU-X", ("Dairy",), "")) == 1
        session.rollback()  # the till ends each lookup's transaction
        assert catalog.pricing_rules_for("SKU-X", ("Dairy",), "") == ()
        hit = catalog.item_by_barcode(barcode)
        assert hit is not None and hit[0].item_name == "Regular 87"
        assert catalog.prices("SKU-000001", "Standard Selling")[0].price_list_rate == D("2.009")
        assert price != D("2.009")
        # Nothing changed: the caches stay (no query but the version check).
        session.rollback()
        statements: list[str] = []

        def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
            if not statement.startswith("BEGIN"):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        assert catalog.item("SKU-000001") == hit[0]
        assert catalog.item_by_barcode(barcode) == hit
        assert len(statements) == 1 and "sync_state" in statements[0]
        catalog.refresh()  # explicit: everything is read again
        assert catalog.item("SKU-000001") == hit[0] and len(statements) == 2
    engine.dispose()


def codes(found: tuple[object, ...]) -> list[str]:
    return [getattr(i, "item_code", getattr(i, "name", "")) for i in found]


def test_search_by_name_substring(catalog: SqlCatalog) -> None:
    apples = {c for c, d in ITEMS.items() if "Apples" in d["item_name"]}
    assert apples
    found = catalog.search_items("pples", 50)
    assert set(codes(found)) == apples
    assert set(codes(catalog.search_items("APPLES", 50))) == apples  # any case
    # Several words: each must occur, in any order, short ones included.
    both = catalog.search_items("2l milk", 50)
    assert both and all("Milk 2L" in i.item_name for i in both)
    assert {i.item_code for i in both} == {
        c for c, d in ITEMS.items() if "Milk 2L" in d["item_name"]
    }


def test_search_ranks_exact_then_prefix_then_word_then_anywhere(catalog: SqlCatalog) -> None:
    found = catalog.search_items("SKU-000042", 5)
    assert codes(found)[0] == "SKU-000042"
    found = catalog.search_items("sku-00004", 20)
    assert codes(found)[:10] == [f"SKU-0000{n}" for n in range(40, 50)]
    # "Organic ..." starts the name; "... #n" with "org" inside a word would come after.
    organic = catalog.search_items("orga", 100)
    assert organic and all(i.item_name.startswith("Organic") for i in organic)


def test_search_tiers_on_crafted_items(engine: Engine) -> None:
    item = item_doc
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        apply_masters(
            uow.session,
            [
                item("X-4", "Screams Candy", "555"),  # inside a word
                item("X-3", "Ice Cream", "444"),  # a word starts with it
                item("X-2", "cream soda", "333"),  # the name starts with it
                item("X-1", "Bread", "CREAM-LABEL"),  # a barcode starts with it
                item("CREAM-2", "Milk", "222"),  # the code starts with it
                item("CREAM", "Butter", "111"),  # the code itself
                item("X-5", "Unrelated", "666"),
            ],
        )
        uow.commit()
    with factory() as session:
        found = codes(SqlCatalog(session).search_items("Cream", 10))
    assert found == ["CREAM", "CREAM-2", "X-1", "X-2", "X-3", "X-4"]


def test_search_by_barcode_whole_and_part(catalog: SqlCatalog) -> None:
    doc = ITEMS["SKU-000123"]
    barcode = doc["barcodes"][0]["barcode"]
    assert codes(catalog.search_items(barcode, 5))[0] == "SKU-000123"
    middle = barcode[3:11]
    assert "SKU-000123" in codes(catalog.search_items(middle, 20))
    assert "SKU-000123" in codes(catalog.search_items(barcode[:9], 300))


def test_search_limits_and_leaves_out_unsellable(tmp_path: Path) -> None:
    engine = seeded_engine(tmp_path / "pos.db")
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        apply_masters(uow.session, [ITEMS["SKU-000005"] | {"disabled": 1}])
        uow.commit()
    with factory() as session:
        catalog = SqlCatalog(session)
        assert catalog.search_items("SKU-000005", 5) == ()
        assert catalog.item("SKU-000005") is not None  # still known: the till says why
        assert len(catalog.search_items("SKU", 7)) == 7
        assert catalog.search_items("   ", 5) == () and catalog.search_items("x", 0) == ()
        assert [i.item_code for i in catalog.search_items("sk", 3)] == [
            "SKU-000001",
            "SKU-000002",
            "SKU-000003",
        ]
    engine.dispose()


def test_search_follows_renames_and_deletes(tmp_path: Path) -> None:
    engine = seeded_engine(tmp_path / "pos.db")
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        apply_masters(uow.session, [ITEMS["SKU-000007"] | {"item_name": "Zanzibar Cloves"}])
        delete_masters(uow.session, "Item", ["SKU-000008"])
        uow.commit()
    with factory() as session:
        catalog = SqlCatalog(session)
        assert codes(catalog.search_items("zanzib", 5)) == ["SKU-000007"]
        assert codes(catalog.search_items("anzibar clo", 5)) == ["SKU-000007"]
        old_word = ITEMS["SKU-000007"]["item_name"].split()[1]
        assert "SKU-000007" not in codes(catalog.search_items(old_word, 300))
        assert catalog.search_items("SKU-000008", 5) == ()
        barcode = ITEMS["SKU-000008"]["barcodes"][0]["barcode"]
        assert catalog.search_items(barcode, 5) == ()
    engine.dispose()


def test_customer_search_by_name_and_phone(catalog: SqlCatalog) -> None:
    wongs = {n for n, d in CUSTOMERS.items() if "Wong" in d["customer_name"]}
    assert wongs
    assert {c.name for c in catalog.search_customers("wong", 100)} == wongs
    assert {c.name for c in catalog.search_customers("ong", 100)} >= wongs
    someone = next(d for d in CUSTOMERS.values() if d["mobile_no"])
    assert catalog.search_customers(someone["mobile_no"], 5)[0].name == someone["name"]
    digits = someone["mobile_no"][-7:]
    assert someone["name"] in {c.name for c in catalog.search_customers(digits, 20)}
    first = someone["customer_name"].split()[0]
    found = catalog.search_customers(first, 100)
    assert found and all(c.customer_name.startswith(first) for c in found[:5])
    number = someone["mobile_no"][-10:]  # "+16045550001" typed as "(604) 555-0001"
    typed = f"({number[:3]}) {number[3:6]}-{number[6:]}"
    assert catalog.search_customers(typed, 5)[0].name == someone["name"]
    assert catalog.search_customers("zzzzqq", 5) == ()
    walk_in = catalog.search_customers("walk-in", 5)
    assert [c.name for c in walk_in] == ["Walk-in Customer"]


def test_till_profile_from_the_store(session: Session) -> None:
    scan = ScanConfig(weight_uoms=("kg",))
    profile = load_till_profile(session, "Main POS", scan)
    assert (profile.name, profile.company, profile.currency, profile.price_list) == (
        "Main POS",
        "Prairie Pine Co",
        "CAD",
        "Standard Selling",
    )
    assert profile.walk_in_customer == "Walk-in Customer"
    assert profile.taxes_and_charges == "BC GST+PST - PPC"
    assert profile.apply_discount_on is DiscountOn.GRAND_TOTAL and profile.scan is scan
    assert profile.settings.smallest_currency_fraction_value == D("0.05")
    assert profile.time_zone == "America/Vancouver"
    assert profile.modes == (
        PaymentMode("Cash", "Cash", "Cash - PPC", default=True),
        PaymentMode("Credit Card", "Bank", "Credit Card - PPC"),
        PaymentMode("Debit Card", "Bank", "Debit Card - PPC"),
        PaymentMode("Gift Card", "General", "Gift Card - PPC"),
    )
    assert profile.cash_mode == "Cash"


def test_till_profile_on_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path / "pos.db")
    factory = make_session_factory(engine)
    with factory() as session, pytest.raises(StoreNotReadyError) as caught:
        load_till_profile(session, "Main POS", ScanConfig())
    assert str(caught.value) == (
        "No POS Profile 'Main POS' in the local store: run `appliance demo-data` or let the "
        "agent sync"
    )
    # A profile synced before its payment modes and settings: each missing piece is named.
    profile = by_name(DOCS, "POS Profile")["Main POS"]
    with unit_of_work(factory) as uow:
        apply_masters(uow.session, [profile])
        uow.commit()
    with factory() as session, pytest.raises(StoreNotReadyError) as caught:
        load_till_profile(session, "Main POS", ScanConfig())
    message = str(caught.value)
    for missing in (
        "site settings",
        "Mode of Payment 'Cash'",
        "Mode of Payment 'Gift Card'",
        "Price List 'Standard Selling'",
        "Sales Taxes and Charges Template 'BC GST+PST - PPC'",
        "appliance demo-data",
    ):
        assert missing in message
    engine.dispose()


@pytest.mark.parametrize(
    ("needle", "kind", "expected"),
    [
        ("apples", Tokenizer.TRIGRAM, '"apples"'),
        ('2l "milk', Tokenizer.TRIGRAM, '"""milk"'),
        ("ab", Tokenizer.TRIGRAM, None),
        ("org app", Tokenizer.UNICODE61, '"org"* AND "app"*'),
        ("+1604", Tokenizer.UNICODE61, '"1604"*'),
    ],
)
def test_match_expressions(needle: str, kind: Tokenizer, expected: str | None) -> None:
    assert match_expression(needle, kind) == expected


def test_search_without_trigram_matches_word_starts(tmp_path: Path) -> None:
    """SQLite older than 3.34 gets unicode61 indexes: the same search, by word prefix."""
    engine = seeded_engine(tmp_path / "pos.db")
    with engine.begin() as conn:
        for fts, content, rowid, columns in (
            ("items_fts", "items", "rowid", "item_code, item_name"),
            ("item_barcodes_fts", "item_barcodes", "id", "barcode"),
            ("customers_fts", "customers", "rowid", "customer_name, mobile_no"),
        ):
            conn.exec_driver_sql(f"DROP TABLE {fts}")  # the triggers name it; they carry on
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({columns}, content = '{content}', "
                f"content_rowid = '{rowid}', tokenize = 'unicode61 remove_diacritics 2', "
                "prefix = '1 2 3')"
            )
            conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        apply_masters(uow.session, [ITEMS["SKU-000007"] | {"item_name": "Zanzibar Cloves"}])
        uow.commit()
    with factory() as session:
        catalog = SqlCatalog(session)
        assert catalog.tokenizer() is Tokenizer.UNICODE61
        assert codes(catalog.search_items("clov zanz", 5)) == ["SKU-000007"]
        apples = {c for c, d in ITEMS.items() if "Apples" in d["item_name"]}
        assert set(codes(catalog.search_items("appl", 100))) == apples
        wongs = {n for n, d in CUSTOMERS.items() if "Wong" in d["customer_name"]}
        assert {c.name for c in catalog.search_customers("won", 100)} == wongs
        assert search_index.integrity_problems(session) == []
    engine.dispose()


def test_search_indexes_check_and_rebuild(tmp_path: Path) -> None:
    engine = seeded_engine(tmp_path / "pos.db")
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        assert search_index.integrity_problems(uow.session) == []
        # What a VACUUM may do to a table without an INTEGER PRIMARY KEY: new rowids.
        uow.session.execute(text("DROP TRIGGER items_fts_au"))
        uow.session.execute(text("UPDATE items SET rowid = rowid + 1000000"))
        assert any("items_fts" in p for p in search_index.integrity_problems(uow.session))
        assert codes(SqlCatalog(uow.session).search_items("pples", 5)) == []
        search_index.rebuild(uow.session)
        assert search_index.integrity_problems(uow.session) == []
        assert codes(SqlCatalog(uow.session).search_items("pples", 5))
        uow.rollback()
    engine.dispose()

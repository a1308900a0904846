"""ERPNext master documents land in the store: every demo doctype, children, updates, deletes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.demo.masters import ACC_LEVY, DemoSize
from appliance.demo.seed import seed_demo
from appliance.sales.erpnext_float import RoundingMethod
from appliance.store.db import make_session_factory, unit_of_work
from appliance.store.masters import (
    MASTERS_VERSION_KEY,
    MasterError,
    UnknownDoctypeError,
    apply_masters,
    delete_masters,
    number_format_decimals,
)
from appliance.store.models import (
    Base,
    Cashier,
    CashierRole,
    Customer,
    CustomerSyncState,
    Item,
    ItemBarcode,
    ItemPrice,
    PosProfile,
    SalesTaxesTemplate,
    SalesTaxesTemplateRow,
    SyncState,
    TotalsSettingsRow,
    UomConversionDetail,
)
from tests.store.demo_store import FAST_HASHER, SMALL, by_name, demo_docs, dump, seeded_engine
from tests.store.factories import migrated_engine


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Seeded once; tests on this engine only read."""
    engine = seeded_engine(tmp_path_factory.mktemp("masters") / "pos.db")
    yield engine
    engine.dispose()


@pytest.fixture
def fresh(engine: Engine) -> sessionmaker[Session]:
    """An engine of its own, with the demo masters applied in one go."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        apply_masters(uow.session, demo_docs())
        uow.commit()
    return factory


def apply(factory: sessionmaker[Session], docs: list[dict[str, Any]]) -> None:
    with unit_of_work(factory) as uow:
        apply_masters(uow.session, docs)
        uow.commit()


def count(session: Session, table: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0)


def children(docs: list[dict[str, Any]], doctype: str, key: str) -> int:
    return sum(len(d.get(key) or []) for d in docs if d["doctype"] == doctype)


def test_every_demo_doctype_lands_with_its_children(seeded: Engine) -> None:
    docs = demo_docs()
    kinds = Counter(d["doctype"] for d in docs)
    expected_rows = {
        "items": kinds["Item"],
        "item_barcodes": children(docs, "Item", "barcodes"),
        "uom_conversion_details": children(docs, "Item", "uoms"),
        "item_taxes": children(docs, "Item", "taxes"),
        "item_prices": kinds["Item Price"],
        "item_groups": kinds["Item Group"],
        "item_group_taxes": children(docs, "Item Group", "taxes"),
        "customer_groups": kinds["Customer Group"],
        "territories": kinds["Territory"],
        "customers": kinds["Customer"],
        "tax_categories": kinds["Tax Category"],
        "sales_taxes_templates": kinds["Sales Taxes and Charges Template"],
        "sales_taxes_template_rows": children(docs, "Sales Taxes and Charges Template", "taxes"),
        "tax_rules": kinds["Tax Rule"],
        "item_tax_templates": kinds["Item Tax Template"],
        "item_tax_template_rows": children(docs, "Item Tax Template", "taxes"),
        "modes_of_payment": kinds["Mode of Payment"],
        "mode_of_payment_accounts": children(docs, "Mode of Payment", "accounts"),
        "price_lists": kinds["Price List"],
        "pos_profiles": kinds["POS Profile"],
        "pos_payment_methods": children(docs, "POS Profile", "payments"),
        "pos_profile_users": children(docs, "POS Profile", "applicable_for_users"),
        "pos_item_groups": 0,
        "pos_customer_groups": 0,
        "pricing_rules": kinds["Pricing Rule"],
        "pricing_rule_item_codes": children(docs, "Pricing Rule", "items"),
        "pricing_rule_item_groups": children(docs, "Pricing Rule", "item_groups"),
        "pricing_rule_brands": children(docs, "Pricing Rule", "brands"),
        "currencies": kinds["Currency"],
        "totals_settings": 1,
        "cashiers": 3,
    }
    assert kinds["Item"] == SMALL.items and expected_rows["item_barcodes"] > SMALL.items
    with Session(seeded) as session:
        assert {t: count(session, t) for t in expected_rows} == expected_rows


def test_values_are_stored_exactly_and_typed(seeded: Engine) -> None:
    docs = demo_docs()
    with Session(seeded) as session:
        fuel = session.get(Item, "SKU-000001")
        assert fuel is not None
        assert (fuel.item_name, fuel.item_group, fuel.stock_uom) == (
            "Regular Gasoline",
            "Fuel",
            "Litre",
        )
        assert fuel.is_stock_item is False and fuel.is_sales_item is True
        assert fuel.brand is None  # ERPNext's "" is NULL here
        assert fuel.modified == "2026-11-01 08:00:00.000000"
        for name, doc in by_name(docs, "Item Price").items():
            price = session.get(ItemPrice, name)
            assert price is not None
            # The JSON float's shortest text, exactly: 1.899 stays 1.899.
            assert price.price_list_rate == D(repr(doc["price_list_rate"]))
            assert price.valid_from == date(2026, 1, 1) and price.valid_upto is None
        rows = session.scalars(
            select(SalesTaxesTemplateRow)
            .where(SalesTaxesTemplateRow.parent == "BC GST+PST - PPC")
            .order_by(SalesTaxesTemplateRow.idx)
        ).all()
        assert [(r.idx, r.charge_type, r.account_head, r.rate, r.row_id) for r in rows] == [
            (1, "On Item Quantity", ACC_LEVY, D("0.1761"), None),
            (2, "On Previous Row Total", "GST Payable - PPC", D(5), 1),
            (3, "On Previous Row Total", "PST Payable - PPC", D(7), 1),
        ]
        template = session.get(SalesTaxesTemplate, "BC GST+PST - PPC")
        assert template is not None and template.is_default and not template.disabled
        settings = session.get(TotalsSettingsRow, 1)
        assert settings is not None
        assert settings.to_settings().__dict__ == {
            "currency": "CAD",
            "currency_precision": 2,
            "float_precision": 3,
            "rounding_method": RoundingMethod.BANKERS,
            "disable_rounded_total": False,
            "smallest_currency_fraction_value": D("0.05"),
            "erpnext_version": 15,  # until the agent has asked the server
        }
        assert (settings.number_format, settings.time_zone) == ("#,###.##", "America/Vancouver")
        profile = session.get(PosProfile, "Main POS")
        assert profile is not None
        assert [p.mode_of_payment for p in profile.payments] == [
            "Cash",
            "Credit Card",
            "Debit Card",
            "Gift Card",
        ]
        assert [u.user for u in profile.applicable_for_users] == ["ana@example.com"]
        assert profile.write_off_limit == D(1)
        walk_in = session.get(Customer, "Walk-in Customer")
        assert walk_in is not None and walk_in.sync_state is CustomerSyncState.SYNCED
        assert walk_in.billing_state == "British Columbia"


def test_demo_cashiers_have_argon2id_pin_hashes_only(seeded: Engine) -> None:
    with Session(seeded) as session:
        cashiers = {c.user: c for c in session.scalars(select(Cashier))}
    assert {u: c.role for u, c in cashiers.items()} == {
        "ana@example.com": CashierRole.CASHIER,
        "bo@example.com": CashierRole.SUPERVISOR,
        "cy@example.com": CashierRole.CASHIER,
    }
    pins = (("ana@example.com", "1234"), ("bo@example.com", "9999"), ("cy@example.com", "5678"))
    for user, pin in pins:
        pin_hash = cashiers[user].pin_hash
        assert pin_hash.startswith("$argon2id$") and pin not in pin_hash
        assert PasswordHasher().verify(pin_hash, pin)


def test_seed_demo_twice_changes_nothing(engine: Engine) -> None:
    factory = make_session_factory(engine)
    size = DemoSize(items=80, extra_barcodes=30, customers=10)
    first = seed_demo(factory, size, chunk=37, hasher=FAST_HASHER)
    assert first.items == 80 and first.cashiers == 3
    with Session(engine) as session:
        before = dump(session)
    again = seed_demo(factory, size, chunk=37, hasher=FAST_HASHER)
    assert again.items == 0 and again.unchanged["Item"] == 80 and again.cashiers == 0
    with Session(engine) as session:
        assert dump(session) == before


def test_reapplying_the_same_documents_rewrites_nothing(fresh: sessionmaker[Session]) -> None:
    with fresh() as session:
        before = dump(session)
    apply(fresh, demo_docs())
    with fresh() as session:
        # Row for row, child ids and search index pages included: nothing was rewritten.
        assert dump(session) == before


def test_a_changed_document_updates_row_and_children(fresh: sessionmaker[Session]) -> None:
    docs = by_name(demo_docs(), "Item")
    item = docs["SKU-000010"]
    old_barcode = item["barcodes"][0]["barcode"]
    changed = item | {
        "item_name": "Renamed Thing",
        "disabled": 1,
        "barcodes": [{"barcode": "2000000000015", "barcode_type": "EAN", "uom": "Box"}],
        "uoms": [
            {"uom": item["stock_uom"], "conversion_factor": 1},
            {"uom": "Box", "conversion_factor": 6},
        ],
        "taxes": [{"item_tax_template": "No fuel levy", "valid_from": "2026-06-01"}],
    }
    price = by_name(demo_docs(), "Item Price")["PRICE-000010"] | {"price_list_rate": 4.1}
    apply(fresh, [changed, price])
    with fresh() as session:
        row = session.get(Item, "SKU-000010")
        assert row is not None and row.item_name == "Renamed Thing" and row.disabled
        assert [(b.barcode, b.uom) for b in row.barcodes] == [("2000000000015", "Box")]
        assert session.scalar(select(ItemBarcode).where(ItemBarcode.barcode == old_barcode)) is None
        assert {u.uom: u.conversion_factor for u in row.uoms} == {
            item["stock_uom"]: D(1),
            "Box": D(6),
        }
        assert [(t.item_tax_template, t.valid_from) for t in row.taxes] == [
            ("No fuel levy", date(2026, 6, 1))
        ]
        stored_price = session.get(ItemPrice, "PRICE-000010")
        assert stored_price is not None and stored_price.price_list_rate == D("4.1")


def test_a_document_without_a_child_table_keeps_its_rows(fresh: sessionmaker[Session]) -> None:
    item = by_name(demo_docs(), "Item")["SKU-000010"]
    partial = {k: v for k, v in item.items() if k not in ("barcodes", "uoms", "taxes")}
    apply(fresh, [partial | {"item_name": "From a list endpoint"}])
    with fresh() as session:
        row = session.get(Item, "SKU-000010")
        assert row is not None and row.item_name == "From a list endpoint"
        assert [b.barcode for b in row.barcodes] == [b["barcode"] for b in item["barcodes"]]


def test_a_barcode_moves_to_the_item_that_now_holds_it(fresh: sessionmaker[Session]) -> None:
    items = by_name(demo_docs(), "Item")
    taken = items["SKU-000011"]["barcodes"][0]["barcode"]
    # SKU-000012 arrives claiming SKU-000011's barcode before SKU-000011's own update does.
    claimant = items["SKU-000012"] | {"barcodes": [{"barcode": taken}]}
    apply(fresh, [claimant])
    with fresh() as session:
        owner = session.scalar(select(ItemBarcode.parent).where(ItemBarcode.barcode == taken))
        assert owner == "SKU-000012"


def test_delete_removes_the_record_and_its_children(fresh: sessionmaker[Session]) -> None:
    with unit_of_work(fresh) as uow:
        assert delete_masters(uow.session, "Item", ["SKU-000010", "SKU-000010", "NOPE"]) == 1
        assert delete_masters(uow.session, "POS Profile", ["Main POS"]) == 1
        assert delete_masters(uow.session, "Currency", ["CAD"]) == 1
        uow.commit()
    with fresh() as session:
        assert session.get(Item, "SKU-000010") is None
        for model in (ItemBarcode, UomConversionDetail):
            assert not session.scalars(select(model).where(model.parent == "SKU-000010")).all()
        assert count(session, "pos_payment_methods") == 0
        assert count(session, "pos_profile_users") == 0


def test_delete_with_foreign_keys_off_still_removes_children(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path / "pos.db")
    factory = make_session_factory(engine)
    apply(factory, [d for d in demo_docs() if d["doctype"] == "Item"][:3])
    with unit_of_work(factory) as uow:
        uow.session.connection().exec_driver_sql("PRAGMA foreign_keys = OFF")
        delete_masters(uow.session, "Item", ["SKU-000001", "SKU-000002", "SKU-000003"])
        uow.commit()
    with factory() as session:
        assert count(session, "item_barcodes") == count(session, "uom_conversion_details") == 0
    engine.dispose()


def test_customers_created_at_the_till_are_kept(fresh: sessionmaker[Session]) -> None:
    offline = "3f0c2a3e-8b9a-4d5e-9f10-1a2b3c4d5e6f"
    with unit_of_work(fresh) as uow:
        uow.session.add(
            Customer(
                name=offline,
                customer_name="New At Till",
                offline_id=offline,
                sync_state=CustomerSyncState.PENDING,
            )
        )
        uow.commit()
    # A pull naming the same row rewrites ERPNext's fields, never the till's own columns.
    apply(fresh, [{"doctype": "Customer", "name": offline, "customer_name": "Named By ERPNext"}])
    with unit_of_work(fresh) as uow:
        assert delete_masters(uow.session, "Customer", [offline]) == 0
        uow.commit()
    with fresh() as session:
        row = session.get(Customer, offline)
        assert row is not None and row.customer_name == "Named By ERPNext"
        assert (row.offline_id, row.sync_state) == (offline, CustomerSyncState.PENDING)


def test_unknown_doctype_is_refused_by_name_and_nothing_is_written(engine: Engine) -> None:
    factory = make_session_factory(engine)
    item = demo_docs()[0]
    with unit_of_work(factory) as uow, pytest.raises(UnknownDoctypeError, match="'Sales Invoice'"):
        apply_masters(uow.session, [item, {"doctype": "Sales Invoice", "name": "SINV-1"}])
    with pytest.raises(UnknownDoctypeError, match="'Bin'"), unit_of_work(factory) as uow:
        delete_masters(uow.session, "Bin", ["x"])
    with factory() as session:
        assert count(session, "totals_settings") == 0


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"doctype": "Item", "name": "X", "stock_uom": "Nos"}, r"Item 'X' field 'item_group'"),
        (
            {
                "doctype": "Item Price",
                "name": "P",
                "item_code": "X",
                "price_list": "S",
                "price_list_rate": "abc",
            },
            r"Item Price 'P' field 'price_list_rate': 'abc' is not a number",
        ),
        (
            {
                "doctype": "Item",
                "name": "X",
                "item_group": "G",
                "stock_uom": "Nos",
                "barcodes": [{"barcode": ""}],
            },
            r"Item 'X' barcodes row 1 field 'barcode' is empty",
        ),
        ({"doctype": "Customer"}, "without a name"),
        (
            {"doctype": "System Settings", "name": "System Settings", "rounding_method": "Up"},
            "rounding_method",
        ),
    ],
)
def test_a_bad_document_is_refused_naming_the_field(
    engine: Engine, doc: dict[str, Any], message: str
) -> None:
    with (
        unit_of_work(make_session_factory(engine)) as uow,
        pytest.raises(MasterError, match=message),
    ):
        apply_masters(uow.session, [doc])


def test_settings_as_a_real_site_sends_them(engine: Engine) -> None:
    factory = make_session_factory(engine)
    # recorded/12-14: currency_precision is empty (the number format decides), Currency first.
    apply(
        factory,
        [
            {"doctype": "Currency", "name": "USD", "smallest_currency_fraction_value": 0.01},
            {"doctype": "Currency", "name": "CAD", "smallest_currency_fraction_value": 0.0},
            {
                "doctype": "System Settings",
                "name": "System Settings",
                "currency": "CAD",
                "number_format": "#,###.###",
                "float_precision": "",
                "currency_precision": "",
                "rounding_method": "Commercial Rounding",
                "time_zone": "America/Toronto",
            },
            {"doctype": "Global Defaults", "name": "Global Defaults", "disable_rounded_total": 1},
        ],
    )
    with factory() as session:
        row = session.get(TotalsSettingsRow, 1)
        assert row is not None
        assert (row.currency, row.currency_precision, row.float_precision) == ("CAD", 3, 3)
        assert row.rounding_method is RoundingMethod.COMMERCIAL and row.disable_rounded_total
        assert row.smallest_currency_fraction_value == D(0)
    # Switching the site's currency brings that currency's fraction along.
    apply(
        factory,
        [
            {
                "doctype": "Global Defaults",
                "name": "Global Defaults",
                "default_currency": "USD",
                "disable_rounded_total": "0",
            }
        ],
    )
    with factory() as session:
        row = session.get(TotalsSettingsRow, 1)
        assert row is not None and row.currency == "USD" and not row.disable_rounded_total
        assert row.smallest_currency_fraction_value == D("0.01")


@pytest.mark.parametrize(
    ("fmt", "places"),
    [
        ("#,###.##", 2),
        ("#.###,##", 2),
        ("# ###.##", 2),
        ("#,###.###", 3),
        ("#,###", 0),
        ("#.###", 0),
        ("#,##,###.##", 2),
        (None, 2),
        ("", 2),
    ],
)
def test_number_format_decimals(fmt: str | None, places: int) -> None:
    assert number_format_decimals(fmt) == places


def test_the_masters_version_moves_only_when_masters_change(fresh: sessionmaker[Session]) -> None:
    def version() -> str | None:
        with fresh() as session:
            row = session.get(SyncState, MASTERS_VERSION_KEY)
            return row.value if row else None

    start = version()
    assert start is not None
    apply(fresh, demo_docs()[:50])  # unchanged
    assert version() == start
    price = by_name(demo_docs(), "Item Price")["PRICE-000003"]
    apply(fresh, [price | {"price_list_rate": 9.99}])
    assert version() == str(int(start) + 1)
    with unit_of_work(fresh) as uow:
        delete_masters(uow.session, "Item Price", ["NOT-THERE"])
        uow.commit()
    assert version() == str(int(start) + 1)
    with unit_of_work(fresh) as uow:
        delete_masters(uow.session, "Item Price", ["PRICE-000003"])
        uow.commit()
    assert version() == str(int(start) + 2)

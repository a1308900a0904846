"""The pull's terminal side: cashier PINs, POS Profile scope, deletions, addresses, renamed
customers and progress, against the fake ERPNext over HTTP into real SQLite files."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient
from appliance.agent.pull import Puller, PullReport
from appliance.cli import main
from appliance.counter.auth import authenticate
from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from appliance.sales.tax_rules import choose_sales_taxes, tax_context
from appliance.store import search_index
from appliance.store import sync_state as state
from appliance.store.catalog import SqlCatalog
from appliance.store.customers import OfflineCustomer, create_offline_customer
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.journal import JournalKind
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import (
    Cashier,
    Customer,
    Item,
    ItemPrice,
    JournalEntry,
    PosInvoice,
    PosProfile,
    PricingRule,
    TaxRule,
)
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, make_client, make_pusher, sell, write_config

BRANCH = "Branch POS"
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: quick hashes


def _factories(db: Path) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    engine = create_db_engine(db)
    return make_session_factory(engine, read_only=True), make_session_factory(engine)


def _puller(client: ERPNextClient, db: Path, **kw: Any) -> Puller:
    read, write = _factories(db)
    return Puller(client, read, write, page_size=kw.pop("page_size", 25), **kw)


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    db = tmp_path / "branch.db"
    upgrade_to_head(db)
    return db


def _branch_profile(**changes: Any) -> dict[str, Any]:
    main_profile = next(d for d in all_masters(SMALL) if d["doctype"] == "POS Profile")
    return {
        **main_profile,
        "name": BRANCH,
        "applicable_for_users": [],
        "item_groups": [{"item_group": "Grocery"}],
        "customer_groups": [{"customer_group": "Commercial"}],
        **changes,
    }


@pytest.fixture
def branch_erp() -> Iterator[FakeERPNext]:
    with FakeERPNext([*all_masters(SMALL), _branch_profile()]) as fake:
        yield fake


@pytest.fixture
def branch_client(branch_erp: FakeERPNext) -> Iterator[ERPNextClient]:
    c = make_client(branch_erp)
    yield c
    c.close()


def _read(db: Path, fn: Any) -> Any:
    read, _ = _factories(db)
    with read() as session:
        try:
            out = fn(session)
            session.expunge_all()  # rows read stay readable after the transaction ends
            return out
        finally:
            session.rollback()


def _names(db: Path, column: Any) -> set[str]:
    return set(_read(db, lambda s: s.scalars(select(column)).all()))


# -- 1. cashier PINs ------------------------------------------------------------------------------
def test_pin_set_in_erpnext_signs_in_and_removal_refuses(
    db_path: Path, erp: FakeERPNext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
    erp.site.load([{"doctype": "User", "name": "dee@example.com", "full_name": "Dee Dupont"}])
    rows = erp.site.get("POS Profile", "Main POS")["applicable_for_users"]
    hashed = {
        "user": "dee@example.com",
        "default": 0,
        "appliance_pin_hash": FAST.hash("2468"),
        "appliance_role": "Supervisor",
    }
    no_pin = {"user": "eve@example.com", "default": 0, "appliance_role": "Cashier"}
    erp.site.touch("POS Profile", "Main POS", applicable_for_users=[*rows, hashed, no_pin])
    assert main(["sync", "--once"]) == 0

    read, write = _factories(db_path)

    def sign_in(user: str, pin: str) -> bool:
        with read() as r, unit_of_work(write) as uow:
            result = authenticate(r, uow.session, user, pin)
            uow.commit()
            return result.ok

    dee = _read(db_path, lambda s: s.get(Cashier, "dee@example.com"))
    assert dee.full_name == "Dee Dupont" and dee.role.value == "supervisor" and dee.enabled
    assert "2468" not in dee.pin_hash
    assert sign_in("dee@example.com", "2468")
    assert not sign_in("dee@example.com", "1111")
    assert not sign_in("eve@example.com", "")  # listed without a PIN: cannot sign in
    eve = _read(db_path, lambda s: s.get(Cashier, "eve@example.com"))
    assert eve.full_name == "eve@example.com" and not eve.enabled  # no User doc: the id
    # The demo's own cashiers are not the profile's to manage.
    assert sign_in("bo@example.com", "9999")

    erp.site.touch("POS Profile", "Main POS", applicable_for_users=rows)
    assert main(["sync", "--once"]) == 0
    assert _read(db_path, lambda s: s.get(Cashier, "dee@example.com")) is None
    assert not sign_in("dee@example.com", "2468")
    assert sign_in("bo@example.com", "9999")


# -- 2. scope -------------------------------------------------------------------------------------
def _groups(db: Path) -> set[str]:
    return set(_read(db, lambda s: s.scalars(select(Item.item_group).distinct()).all()))


def test_a_branch_holds_only_its_profile_share(
    branch_erp: FakeERPNext, branch_client: ERPNextClient, empty_db: Path
) -> None:
    puller = _puller(branch_client, empty_db, pos_profile=BRANCH)
    report = puller.pull()
    assert report.complete and report.first
    grocery = {"Grocery", "Produce", "Dairy", "Bakery", "Pantry", "Snacks"}
    assert _groups(empty_db) <= grocery and _groups(empty_db)
    expected = {d["name"] for d in branch_erp.site.all("Item") if d["item_group"] in grocery}
    assert _names(empty_db, Item.name) == expected
    customers = _read(empty_db, lambda s: s.execute(select(Customer.customer_group)).all())
    assert customers and {g for (g,) in customers} == {"Commercial"}
    # Prices only for items held; only this profile.
    priced = _names(empty_db, ItemPrice.item_code)
    assert priced and priced <= expected
    assert _read(empty_db, lambda s: s.scalar(select(func.count(ItemPrice.name)))) == sum(
        1 for p in branch_erp.site.all("Item Price") if p["item_code"] in expected
    )
    assert _names(empty_db, PosProfile.name) == {BRANCH}
    # The listing was filtered by ERPNext, not pulled whole and dropped here.
    assert report.applied["Item"] == len(expected)

    # The profile moves to Hardware and Individual: what fell out goes, the rest comes.
    branch_erp.site.touch(
        "POS Profile",
        BRANCH,
        item_groups=[{"item_group": "Hardware"}],
        customer_groups=[{"customer_group": "Individual"}],
    )
    again = puller.pull()
    assert _groups(empty_db) == {"Hardware"}
    assert again.removed["Item"] == len(expected)
    assert {
        g
        for (g,) in _read(
            empty_db, lambda s: s.execute(select(Customer.customer_group).distinct()).all()
        )
    } == {"Individual"}
    assert _read(empty_db, search_index.integrity_problems) == []
    assert puller.pull().total == 0  # settled


def test_an_item_moved_out_of_the_scope_leaves(
    branch_erp: FakeERPNext, branch_client: ERPNextClient, empty_db: Path
) -> None:
    puller = _puller(branch_client, empty_db, pos_profile=BRANCH)
    puller.pull()
    moved = next(d for d in branch_erp.site.all("Item") if d["item_group"] == "Dairy")["name"]
    branch_erp.site.touch("Item", moved, item_group="Hardware")
    report = puller.pull()
    assert report.removed == {"Item": 1}
    assert moved not in _names(empty_db, Item.name)


# -- 3. deletions and disabled --------------------------------------------------------------------
def _search(db: Path, text: str) -> list[str]:
    read, _ = _factories(db)
    with read() as session:
        return [i.item_code for i in SqlCatalog(session).search_items(text, 50)]


def _find_customers(db: Path, text: str) -> list[str]:
    read, _ = _factories(db)
    with read() as session:
        return [c.name for c in SqlCatalog(session).search_customers(text, 50)]


@pytest.mark.parametrize("deleted_documents_readable", [True, False])
def test_deleted_and_disabled_leave_the_catalog_and_search(
    erp: FakeERPNext, client: ERPNextClient, empty_db: Path, deleted_documents_readable: bool
) -> None:
    if not deleted_documents_readable:
        erp.forbid("Deleted Document")
    puller = _puller(client, empty_db, pos_profile="Main POS", reconcile_every=0)
    puller.pull()
    items = sorted(erp.site.all("Item"), key=lambda d: d["name"])
    gone, off = items[3], items[4]
    customer = sorted(c["name"] for c in erp.site.all("Customer"))[2]
    for doc in (gone, off):
        assert _search(empty_db, doc["item_name"])[:1] == [doc["name"]]
    assert customer in _find_customers(empty_db, customer)

    erp.site.delete("Item", gone["name"])
    erp.site.touch("Item", off["name"], disabled=1)
    erp.site.touch("Customer", customer, disabled=1)
    report = puller.pull()
    assert report.removed.get("Item") == 2 and report.removed.get("Customer") == 1
    held = _names(empty_db, Item.name)
    assert gone["name"] not in held and off["name"] not in held
    for doc in (gone, off):
        assert doc["name"] not in _search(empty_db, doc["item_name"])
        assert doc["name"] not in _search(empty_db, doc["item_name"].split()[1])  # FTS
    assert customer not in _find_customers(empty_db, customer)
    assert gone["item_code"] not in _names(empty_db, ItemPrice.item_code)  # its prices too
    assert _read(empty_db, search_index.integrity_problems) == []
    # Enabled again in ERPNext: back at the till.
    erp.site.touch("Item", off["name"], disabled=0)
    puller.pull()
    assert off["name"] in _names(empty_db, Item.name)


# -- 4. addresses ---------------------------------------------------------------------------------
def test_a_customers_billing_address_sets_its_province_taxes(
    erp: FakeERPNext, client: ERPNextClient, empty_db: Path
) -> None:
    # As ERPNext has it: the Customer carries no address; an Address links to it.
    erp.site.load(
        [
            {
                "doctype": "Customer",
                "name": "Quebec Buyer",
                "customer_name": "Quebec Buyer",
                "customer_type": "Individual",
                "customer_group": "Individual",
                "territory": "Quebec",
                "disabled": 0,
            },
            _address("Quebec Buyer-Billing", "Quebec Buyer", "Quebec", primary=1),
            _address("Quebec Buyer-Cottage", "Quebec Buyer", "Ontario", primary=0),
        ]
    )
    puller = _puller(client, empty_db, pos_profile="Main POS")
    puller.pull()
    assert _template(empty_db, "Quebec Buyer") == "QC GST+QST - PPC"

    erp.site.touch("Address", "Quebec Buyer-Billing", is_primary_address=0)
    erp.site.touch("Address", "Quebec Buyer-Cottage", is_primary_address=1)
    erp.site.touch("Customer", "Quebec Buyer", mobile_no="+15145550000")
    puller.pull()
    assert _template(empty_db, "Quebec Buyer") == "ON HST - PPC"

    erp.site.delete("Address", "Quebec Buyer-Cottage")
    erp.site.touch("Address", "Quebec Buyer-Billing", disabled=1)
    puller.pull()
    row = _read(empty_db, lambda s: s.get(Customer, "Quebec Buyer"))
    assert row.billing_state is None and row.mobile_no == "+15145550000"


def _address(name: str, customer: str, state_: str, primary: int) -> dict[str, Any]:
    return {
        "doctype": "Address",
        "name": name,
        "address_type": "Billing",
        "address_line1": "1 Rue Principale",
        "city": "Somewhere",
        "state": state_,
        "country": "Canada",
        "is_primary_address": primary,
        "is_shipping_address": 0,
        "disabled": 0,
        "links": [{"link_doctype": "Customer", "link_name": customer}],
    }


def _template(db: Path, customer: str) -> str:
    read, _ = _factories(db)
    with read() as session:
        catalog = SqlCatalog(session)
        info = catalog.customer(customer)
        assert info is not None
        ctx = tax_context(catalog, info, posting_date=date(2026, 12, 1), company="Prairie Pine Co")
        choice = choose_sales_taxes(catalog, ctx)
        return choice.template.name if choice.template else ""


# -- 5. customers renamed by ERPNext -------------------------------------------------------------
def test_an_offline_customer_renamed_by_erpnext_is_one_customer_under_its_name(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, client: ERPNextClient
) -> None:
    taken = sorted(c["name"] for c in erp.site.all("Customer") if c["name"] != "Walk-in Customer")[
        0
    ]
    offline_id = str(uuid.uuid4())
    _, write = _factories(db_path)
    with unit_of_work(write) as uow:
        row = create_offline_customer(
            uow.session,
            OfflineCustomer(
                offline_id=offline_id,
                customer_name=taken,
                created_by=CASHIER,
                payload={
                    "offline_id": offline_id,
                    "customer_name": taken,
                    "customer_type": "Individual",
                    "customer_group": "Individual",
                },
                customer_group="Individual",
            ),
        )
        row.billing_state, row.billing_country = "Quebec", "Canada"
        uow.commit()
    checkout.open_shift(CASHIER, {"Cash": Decimal(0)})
    sell(checkout, 10, customer=offline_id)
    make_pusher(client, db_path).push()
    (pushed,) = erp.site.find("Customer", offline_id=offline_id)
    assert pushed["name"] == f"{taken} - 1"

    _puller(client, db_path, pos_profile="Main POS").pull()
    rows = _read(
        db_path,
        lambda s: s.scalars(
            select(Customer).where(Customer.customer_name == taken).order_by(Customer.name)
        ).all(),
    )
    assert [r.name for r in rows] == [taken, f"{taken} - 1"]  # no third, uuid-named row
    assert rows[1].offline_id == offline_id and rows[1].sync_state.value == "SYNCED"
    assert rows[1].billing_state == "Quebec"  # what the till knew survives the pull
    read, _ = _factories(db_path)
    with read() as session:  # the first sale still finds its customer by the offline id
        found = SqlCatalog(session).customer(offline_id)
        assert found is not None and found.name == f"{taken} - 1"

    later = sell(checkout, 11, customer=f"{taken} - 1")
    make_pusher(client, db_path).push()
    (invoice,) = erp.site.find("POS Invoice", offline_id=later.offline_id)
    assert invoice["customer"] == f"{taken} - 1"
    assert {i["customer"] for i in erp.site.all("POS Invoice")} == {f"{taken} - 1"}
    assert _read(
        db_path,
        lambda s: s.scalar(
            select(PosInvoice.customer).where(PosInvoice.offline_id == later.offline_id)
        ),
    ) == (f"{taken} - 1")


# -- 6. progress ----------------------------------------------------------------------------------
def test_first_full_pull_reports_progress_and_is_journaled(
    erp: FakeERPNext, client: ERPNextClient, empty_db: Path
) -> None:
    puller = _puller(client, empty_db, pos_profile="Main POS", page_size=10)
    seen: list[dict[str, Any]] = []

    def on_page(doctype: str, report: PullReport) -> bool:
        seen.append(_read(empty_db, state.read_state)["pull_progress"])
        return True

    report = puller.pull(on_page)
    items = [p for p in seen if p["doctype"] == "Item"]
    assert len(items) == -(-SMALL.items // 10)
    assert [p["by_doctype"]["Item"] for p in items][-1] == SMALL.items
    assert all(p["running"] and p["first"] for p in seen)
    assert [p["pages"] for p in seen] == sorted(p["pages"] for p in seen)
    final = _read(empty_db, state.read_state)["pull_progress"]
    assert not final["running"] and final["applied"] == report.total

    puller.pull()  # a delta: no new journal entries
    kinds = _read(
        empty_db, lambda s: s.scalars(select(JournalEntry.kind).order_by(JournalEntry.seq)).all()
    )
    assert kinds == [JournalKind.PULL_FULL_START.value, JournalKind.PULL_FULL_END.value]
    end = _read(
        empty_db, lambda s: s.scalars(select(JournalEntry.data).order_by(JournalEntry.seq)).all()
    )[-1]
    assert json.loads(end)["applied"]["Item"] == SMALL.items


def test_tax_and_pricing_rules_are_the_profile_companys_or_any_companys(
    branch_erp: FakeERPNext, branch_client: ERPNextClient, empty_db: Path
) -> None:
    company = branch_erp.site.get("POS Profile", BRANCH)["company"]
    rules = (("Tax Rule", TaxRule, "ACC-TAX-RULE-0001"), ("Pricing Rule", PricingRule, "PRLE-0001"))
    for doctype, _, template in rules:
        base = branch_erp.site.get(doctype, template)
        other = {**base, "name": f"{template}-OTHER", "company": "Other Co"}
        blank = {**base, "name": f"{template}-ANY", "company": None}
        branch_erp.site.load([other, blank])
    report = _puller(branch_client, empty_db, pos_profile=BRANCH).pull()
    for doctype, model, template in rules:
        held = {d["name"] for d in branch_erp.site.all(doctype) if d["company"] in (company, None)}
        assert f"{template}-ANY" in held and f"{template}-OTHER" not in held
        assert _names(empty_db, model.name) == held
        # Filtered by ERPNext (company in [the profile's, ""]), not pulled whole and dropped.
        assert report.applied[doctype] == len(held)

"""The push against a fake ERPNext 16 (../shared/erpnext/v16/NOTES.md), in both POS modes, over
real HTTP from a real SQLite store; and the journal entries the push leaves for a person."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from appliance.agent.client import ERPNextClient
from appliance.agent.push import Pusher
from appliance.cli import main
from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from appliance.fakeerp import FakeERPNext
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.models import JournalEntry, OutboxEntry, OutboxState, PosInvoice
from tests.agent.conftest import (
    CASHIER,
    SMALL,
    make_client,
    make_pusher,
    sell,
    write_config,
)
from tests.agent.test_push import _entries, _receipt, _shift

SI, PI = "Sales Invoice", "POS Invoice"


def _fake(invoice_type: str) -> Iterator[FakeERPNext]:
    with FakeERPNext(all_masters(SMALL), version=16, invoice_type=invoice_type) as fake:
        yield fake


@pytest.fixture
def erp16() -> Iterator[FakeERPNext]:
    yield from _fake(SI)


@pytest.fixture
def erp16_pos() -> Iterator[FakeERPNext]:
    yield from _fake(PI)


@pytest.fixture
def client16(erp16: FakeERPNext) -> Iterator[ERPNextClient]:
    c = make_client(erp16)
    yield c
    c.close()


def _our_sales(db_path: Path) -> dict[str, PosInvoice]:
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        return {s.offline_id: s for s in session.scalars(select(PosInvoice))}


def _journal(db_path: Path, kind: str) -> list[JournalEntry]:
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        return list(session.scalars(select(JournalEntry).where(JournalEntry.kind == kind)))


def _forget(db_path: Path, offline_id: str) -> None:
    """As if the DONE after ERPNext's commit was lost: the entry is READY again, no name."""
    factory = make_session_factory(create_db_engine(db_path))
    with factory() as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.offline_id == offline_id))
        assert entry is not None
        entry.state, entry.erpnext_name = OutboxState.READY, None
        session.commit()


def _assert_totals_match(db_path: Path, invoices: list[dict[str, Any]]) -> None:
    ours = _our_sales(db_path)
    assert {i["offline_id"] for i in invoices} == set(ours)
    for inv in invoices:
        sale = ours[inv["offline_id"]]
        for key in ("net_total", "total_taxes_and_charges", "grand_total", "rounded_total"):
            assert D(str(inv[key])) == getattr(sale, key), (inv["name"], key)


def test_sales_invoice_mode_day_lands_exactly_once(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    pusher = make_pusher(client16, db_path)
    sales = _shift(checkout, db_path)
    report = pusher.push()
    assert report.stopped is None and not report.quarantined and not report.mismatches
    assert len(report.created) == 6  # opening, 3 sales, return, closing
    assert {e.state for e in _entries(db_path)} == {OutboxState.DONE}

    invoices = erp16.site.all(SI)
    assert erp16.site.all(PI) == [] and len(invoices) == 4
    assert all(i["is_pos"] == 1 and i["is_created_using_pos"] == 1 for i in invoices)
    assert all(i["name"].startswith("ACC-SINV-") and i["docstatus"] == 1 for i in invoices)
    assert all(p.get("account") for i in invoices for p in i["payments"])
    _assert_totals_match(db_path, invoices)
    (ret,) = [i for i in invoices if i["is_return"]]
    (orig,) = [i for i in invoices if i["offline_id"] == sales[0]]
    assert ret["return_against"] == orig["name"] and ret["status"] == "Return"
    assert ret["grand_total"] == -orig["grand_total"]

    (closing,) = erp16.site.all("POS Closing Entry")
    assert "pos_transactions" not in closing and closing["pos_invoices"] == []
    assert sorted(r["sales_invoice"] for r in closing["sales_invoices"]) == sorted(
        i["name"] for i in invoices
    )
    assert {i["pos_closing_entry"] for i in invoices} == {closing["name"]}
    (opening,) = erp16.site.all("POS Opening Entry")
    assert opening["status"] == "Closed"

    # Exactly once: another cycle, and a fresh agent re-checking everything, post nothing.
    posts = len(erp16.posts())
    assert pusher.push().synced == 0
    for offline_id in sales:
        _forget(db_path, offline_id)
    again = make_pusher(make_client(erp16), db_path).push()
    assert len(again.found) == 3 and not again.created
    assert len(erp16.posts()) == posts


def test_pos_invoice_mode_on_16_posts_pos_invoices_and_the_v16_closing(
    checkout: Checkout, db_path: Path, erp16_pos: FakeERPNext
) -> None:
    pusher = make_pusher(make_client(erp16_pos), db_path)
    _shift(checkout, db_path)
    report = pusher.push()
    assert not report.quarantined and not report.mismatches and len(report.created) == 6
    invoices = erp16_pos.site.all(PI)
    assert erp16_pos.site.all(SI) == [] and len(invoices) == 4
    assert all("is_created_using_pos" not in i and i["paid_amount"] for i in invoices)
    _assert_totals_match(db_path, invoices)
    (closing,) = erp16_pos.site.all("POS Closing Entry")
    assert len(closing["pos_invoices"]) == 4 and closing["sales_invoices"] == []
    assert {i["status"] for i in invoices} == {"Consolidated"}


def test_a_shift_synced_after_midnight_opens_today_and_keeps_its_sales_dates(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    real_clock = checkout.clock
    yesterday = real_clock() - timedelta(days=1)
    checkout.clock = lambda: yesterday.replace(hour=21, minute=0, second=0)
    _shift(checkout, db_path)
    report = make_pusher(client16, db_path).push()
    assert report.stopped is None and not report.quarantined, report.quarantined
    assert len(report.created) == 6

    (opening,) = erp16.site.all("POS Opening Entry")
    today = erp16.site.now().date().isoformat()
    assert opening["period_start_date"][:10] == today and opening["posting_date"] == today
    assert opening["status"] == "Closed"
    invoices = erp16.site.all(SI)
    # The sales keep the till's date, time and totals.
    assert {i["posting_date"] for i in invoices} == {yesterday.date().isoformat()}
    assert {i["posting_time"] for i in invoices} == {"21:00:00"}
    _assert_totals_match(db_path, invoices)
    (closing,) = erp16.site.all("POS Closing Entry")
    assert closing["period_start_date"] == opening["period_start_date"]
    assert closing["period_end_date"] > closing["period_start_date"]
    assert len(closing["sales_invoices"]) == 4


def test_an_opening_posted_on_an_earlier_day_quarantines_later_sales_with_a_journal_entry(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    pusher = make_pusher(client16, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    pusher.push()
    # The link then stays down past midnight: on the server the opening is yesterday's.
    (opening,) = erp16.site.all("POS Opening Entry")
    day_before = datetime.fromisoformat(opening["period_start_date"]) - timedelta(days=1)
    erp16.site.touch("POS Opening Entry", opening["name"], period_start_date=str(day_before))
    late = sell(checkout, 11)
    report = pusher.push()
    (held,) = report.quarantined
    assert held.offline_id == late.offline_id
    assert held.message == (
        f"POS Opening Entry - {opening['name']} is outdated. Please close the POS and create a "
        "new POS Opening Entry."
    )
    (entry,) = _journal(db_path, "sync_quarantine")
    assert entry.ref == late.offline_id and entry.actor == "agent"
    assert json.loads(entry.data)["message"] == held.message


def test_existence_check_looks_in_both_doctypes_after_a_mode_switch(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    pusher = make_pusher(client16, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sale = sell(checkout, 10)
    pusher.push()
    (posted,) = erp16.site.all(SI)
    # Someone switches POS Settings to POS Invoice, and our DONE for the sale was lost.
    erp16.site.touch("POS Settings", "POS Settings", invoice_type=PI)
    _forget(db_path, sale.offline_id)
    posts = len(erp16.posts())
    report = pusher.push()
    assert [(o.offline_id, o.erpnext_name) for o in report.found] == [
        (sale.offline_id, posted["name"])
    ]
    assert erp16.site.all(PI) == [] and len(erp16.posts()) == posts
    # New sales now go as POS Invoices; the return of the earlier sale follows its original.
    fresh = sell(checkout, 11)
    back = _return(checkout, db_path, sale.offline_id)
    report = pusher.push()
    assert not report.quarantined, report.quarantined
    assert [i["offline_id"] for i in erp16.site.all(PI)] == [fresh.offline_id]
    (ret,) = erp16.site.find(SI, offline_id=back.offline_id)
    assert ret["return_against"] == posted["name"] and ret["is_created_using_pos"] == 1


def _return(checkout: Checkout, db_path: Path, offline_id: str) -> Any:
    from tests.agent.conftest import return_all

    return return_all(checkout, _receipt(db_path, offline_id))


def test_a_mode_switch_between_cycles_is_followed(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    pusher = make_pusher(client16, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    first = sell(checkout, 10)
    pusher.push()
    assert pusher.mode is not None and pusher.mode.sale_doctype == SI
    erp16.site.touch("POS Settings", "POS Settings", invoice_type=PI)
    second = sell(checkout, 12)
    report = pusher.push()
    assert not report.quarantined and pusher.mode.sale_doctype == PI
    assert [i["offline_id"] for i in erp16.site.all(SI)] == [first.offline_id]
    assert [i["offline_id"] for i in erp16.site.all(PI)] == [second.offline_id]


def test_v15_is_detected_and_keeps_pos_invoices(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    _shift(checkout, db_path)
    report = pusher.push()
    assert pusher.mode is not None and not pusher.mode.v16 and pusher.mode.major == 15
    assert len(report.created) == 6 and erp.site.all(SI) == []
    (closing,) = erp.site.all("POS Closing Entry")
    assert len(closing["pos_transactions"]) == 4
    # On 15 only POS Invoice is searched: no Sales Invoice listing was ever asked for.
    assert not [e for e in erp.log if e.path == "/api/resource/Sales Invoice"]


def test_mismatch_and_quarantine_are_journalled_and_shown_by_status(
    checkout: Checkout,
    db_path: Path,
    erp16: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp16)))
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    erp16.site.touch("Global Defaults", "Global Defaults", disable_rounded_total=1)
    odd = sell(checkout, 10, 11, 12, change=D(5))
    poison = sell(checkout, 13).offline_id
    erp16.reject(poison, "Row #1: Item SKU-000013 is frozen for audit")
    assert main(["sync", "--once"]) == 0
    capsys.readouterr()

    (mismatch,) = _journal(db_path, "sync_mismatch")
    data = json.loads(mismatch.data)
    assert mismatch.ref == odd.offline_id and data["doctype"] == PI
    assert data["erpnext_name"].startswith("ACC-SINV-") and "rounded_total" in data["message"]
    (held,) = _journal(db_path, "sync_quarantine")
    assert held.ref == poison
    assert json.loads(held.data)["message"] == "Row #1: Item SKU-000013 is frozen for audit"

    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    journal = status["sync_journal"]
    assert journal["counts"] == {"sync_quarantine": 1, "sync_mismatch": 1, "outbox_retry": 0}
    assert [(e["kind"], e["offline_id"]) for e in journal["latest"]] == [
        ("sync_quarantine", poison),
        ("sync_mismatch", odd.offline_id),
    ]
    assert journal["latest"][0]["message"] == "Row #1: Item SKU-000013 is frozen for audit"


# -- the fake itself, against the v16 recordings ---------------------------------------------------
def _session(erp: FakeERPNext) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"token {erp.api_key}:{erp.api_secret}"
    return s


def test_fake_16_reports_its_version_and_pos_settings(erp16: FakeERPNext, erp: FakeERPNext) -> None:
    s = _session(erp16)
    versions = s.get(f"{erp16.url}/api/method/frappe.utils.change_log.get_versions").json()
    assert versions["message"]["erpnext"]["version"] == "16.9.1"
    value = s.get(
        f"{erp16.url}/api/method/frappe.client.get_single_value",
        params={"doctype": "POS Settings", "field": "invoice_type"},
    )
    assert value.json() == {"message": SI}
    doc = s.get(f"{erp16.url}/api/resource/POS Settings/POS Settings").json()["data"]
    assert doc["invoice_type"] == SI
    # 15 has no such field (like recorded 05 for another missing field).
    missing = _session(erp).get(
        f"{erp.url}/api/method/frappe.client.get_single_value",
        params={"doctype": "POS Settings", "field": "invoice_type"},
    )
    assert missing.status_code == 417 and missing.json()["exc_type"] == "ValidationError"


def test_fake_16_refuses_what_the_real_one_refused(erp16: FakeERPNext) -> None:
    s = _session(erp16)
    url = erp16.url + "/api/resource/"
    today = erp16.site.now()
    opening = {
        "company": "Prairie Pine Co",
        "pos_profile": "Main POS",
        "user": erp16.user,
        "period_start_date": today.strftime("%Y-%m-%d 08:00:00"),
        "posting_date": today.date().isoformat(),
        "balance_details": [{"mode_of_payment": "Cash", "opening_amount": 50}],
        "docstatus": 1,
    }
    assert s.post(url + "POS Opening Entry", json=opening).status_code == 200
    second = s.post(url + "POS Opening Entry", json=opening)
    assert second.status_code == 417 and "Main POS</strong> is open" in second.text
    switch = s.put(url + "POS Settings/POS Settings", json={"invoice_type": PI})
    assert switch.status_code == 417 and "cannot be changed with opened" in switch.text
    sale = {
        "customer": erp16.site.all("Customer")[0]["name"],
        "company": "Prairie Pine Co",
        "pos_profile": "Main POS",
        "is_pos": 1,
        "currency": "CAD",
        "items": [{"item_code": "SKU-000010", "qty": 1, "rate": 10}],
        "payments": [{"mode_of_payment": "Cash", "amount": 100}],
        "paid_amount": 100,
        "docstatus": 1,
    }
    as_pos = s.post(url + "POS Invoice", json=sale)
    assert as_pos.status_code == 417 and "Sales Invoice mode is activated" in as_pos.text
    no_account = s.post(url + "Sales Invoice", json={**sale, "is_created_using_pos": 1})
    assert no_account.status_code == 417 and "Account is required" in no_account.text
    account = erp16.site.all("Mode of Payment")[0]["accounts"][0]["default_account"]
    paid = [{"mode_of_payment": "Cash", "amount": 100, "account": account}]
    ok = s.post(url + "Sales Invoice", json={**sale, "is_created_using_pos": 1, "payments": paid})
    assert ok.status_code == 200, ok.text
    data = ok.json()["data"]
    # Named after the failed insert's number (reused), Draft in the answer, Paid when read.
    assert data["name"].endswith("-00001") and data["status"] == "Draft" and data["docstatus"] == 1
    got = s.get(url + "Sales Invoice/" + data["name"]).json()["data"]
    assert got["status"] == "Paid"


def test_a_mode_switch_mid_cycle_is_read_again_and_the_sale_resent(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    from appliance.agent.push import PushReport
    from appliance.agent.server_mode import ServerMode

    pusher = make_pusher(client16, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    pusher.push()
    erp16.site.touch("POS Settings", "POS Settings", invoice_type=PI)
    sale = sell(checkout, 10)
    pusher.mode = ServerMode("16.9.1", SI)  # what the agent read before the switch
    report = PushReport()
    pusher.send_batch(pusher._claim(), report)
    assert not report.quarantined and [o.offline_id for o in report.created] == [sale.offline_id]
    assert pusher.mode == ServerMode("16.9.1", PI)
    rejected = [e for e in erp16.log if e.path == "/api/resource/Sales Invoice" and e.status == 417]
    assert len(rejected) == 1
    assert [i["offline_id"] for i in erp16.site.all(PI)] == [sale.offline_id]

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
from appliance.sales import cart as carts
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.models import OutboxEntry, OutboxState, PosInvoice
from fakeerp import FakeERPNext, v16
from tests.agent.conftest import (
    CASHIER,
    SMALL,
    journal_of,
    make_client,
    make_pusher,
    open_shift_over_http,
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
    # Each returned row names the original's row (NOTES §2 "Return", 40).
    assert [r["sales_invoice_item"] for r in ret["items"]] == [r["name"] for r in orig["items"]]
    # (on a sale not returned yet: ERPNext refuses to take back more than was sold)
    _assert_return_link_checked(client16, next(i for i in invoices if i["offline_id"] == sales[1]))

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


def _assert_return_link_checked(client: ERPNextClient, orig: dict[str, Any]) -> None:
    """The fake warns, as recorded (40), about a return row that names no original row."""
    row = orig["items"][0]
    body = {
        **{k: orig[k] for k in ("customer", "company", "pos_profile", "currency")},
        "is_pos": 1,
        "is_return": 1,
        "return_against": orig["name"],
        "items": [{"item_code": row["item_code"], "qty": -1, "rate": row["rate"]}],
        "payments": [{"mode_of_payment": "Cash", "amount": -row["rate"]}],
    }
    warned = client.insert(SI, body).messages
    assert warned == [
        f"Row # 1: Returned Item {row['item_code']} does not exist in Sales Invoice {orig['name']}"
    ]
    body["items"][0]["sales_invoice_item"] = row["name"]
    assert client.insert(SI, body).messages == []


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
    (ret,) = [i for i in invoices if i["is_return"]]
    orig = erp16_pos.site.get(PI, ret["return_against"])
    assert [r["pos_invoice_item"] for r in ret["items"]] == [r["name"] for r in orig["items"]]


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


def _stale_shift(
    checkout: Checkout, erp: FakeERPNext, pusher: Pusher
) -> tuple[carts.Cart, dict[str, Any]]:
    """A shift opened with 150 cash whose opening and first sale reached ERPNext; then the link
    stays down past midnight: on the server the opening is now yesterday's."""
    checkout.open_shift(CASHIER, {"Cash": D(150)})
    first = sell(checkout, 10, change=D(5))
    assert len(pusher.push().created) == 2
    (opening,) = erp.site.all("POS Opening Entry")
    day_before = datetime.fromisoformat(opening["period_start_date"]) - timedelta(days=1)
    erp.site.touch("POS Opening Entry", opening["name"], period_start_date=str(day_before))
    return first, opening


def test_a_stale_server_opening_is_closed_and_reopened_today_exactly_once(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    pusher = make_pusher(client16, db_path)
    first, stale = _stale_shift(checkout, erp16, pusher)
    late = [sell(checkout, 11), sell(checkout, 12, 13)]
    report = pusher.push()
    assert not report.quarantined and len(report.created) == 2, report.as_dict()

    site = erp16.site
    shift = stale["offline_id"]
    interim = site.get(
        "POS Closing Entry", site.get("POS Opening Entry", stale["name"])["pos_closing_entry"]
    )
    assert interim["offline_id"] == f"{shift}/close" and interim["docstatus"] == 1
    first_si = site.find(SI, offline_id=first.offline_id)[0]
    assert [r["sales_invoice"] for r in interim["sales_invoices"]] == [first_si["name"]]
    assert D(str(interim["grand_total"])) == _our_sales(db_path)[first.offline_id].grand_total
    # Nobody counted at midnight: the drawer is declared as expected (150 + the sale).
    (cash,) = interim["payment_reconciliation"]
    assert (
        D(str(cash["expected_amount"]))
        == D(str(cash["closing_amount"]))
        == D(150) + (first.amount_due)
    )
    today = site.now().date().isoformat()
    (fresh,) = site.find("POS Opening Entry", offline_id=f"{shift}/{today}")
    assert fresh["status"] == "Open" and fresh["period_start_date"][:10] == today
    assert D(str(fresh["balance_details"][0]["opening_amount"])) == D(str(cash["closing_amount"]))
    # The late sales keep the till's own dates and totals.
    invoices = site.all(SI)
    _assert_totals_match(db_path, invoices)
    ours = _our_sales(db_path)
    for cart in late:
        (inv,) = site.find(SI, offline_id=cart.offline_id)
        assert inv["posting_date"] == ours[cart.offline_id].posting_date.isoformat()

    # The shift's own closing closes the fresh opening with the sales left.
    checkout.close_shift(CASHIER, {"Cash": D(200)})
    report = pusher.push()
    assert not report.quarantined and len(report.created) == 1, report.as_dict()
    final = site.find("POS Closing Entry", pos_opening_entry=fresh["name"])[0]
    assert sorted(r["sales_invoice"] for r in final["sales_invoices"]) == sorted(
        site.find(SI, offline_id=c.offline_id)[0]["name"] for c in late
    )
    assert D(str(final["grand_total"])) == sum((ours[c.offline_id].grand_total for c in late), D(0))
    (count,) = final["payment_reconciliation"]
    assert D(str(count["closing_amount"])) == D(200)
    assert D(str(count["opening_amount"])) == D(str(cash["closing_amount"]))
    assert {o["status"] for o in site.all("POS Opening Entry")} == {"Closed"}
    assert {i["pos_closing_entry"] for i in site.all(SI)} == {interim["name"], final["name"]}

    # Exactly once: a fresh agent re-checking everything posts nothing.
    posts = len(erp16.posts())
    for cart in (first, *late):
        _forget(db_path, cart.offline_id)
    again = make_pusher(make_client(erp16), db_path).push()
    assert len(again.found) == 3 and not again.created
    assert len(erp16.posts()) == posts


def test_a_rollover_cut_after_the_interim_closing_resumes_with_the_fresh_opening(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    pusher = make_pusher(client16, db_path)
    _, stale = _stale_shift(checkout, erp16, pusher)
    late = sell(checkout, 11)
    # The interim closing is committed but its answer lost: the sale waits for a retry.
    erp16.drop_after_commit(1, "POS Closing Entry")
    report = pusher.push()
    assert not report.created and len(report.retrying) == 1
    assert erp16.site.get("POS Opening Entry", stale["name"])["status"] == "Closed"
    _make_sendable(db_path)
    # Now ERPNext answers "No open POS Opening Entry": the agent sees its own interim closing.
    report = pusher.push()
    assert [o.offline_id for o in report.created] == [late.offline_id], report.as_dict()
    assert len(erp16.site.all("POS Closing Entry")) == 1
    assert len(erp16.site.find("POS Opening Entry", status="Open")) == 1


def test_a_stale_opening_the_appliance_did_not_post_quarantines_with_what_to_do(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    pusher = make_pusher(client16, db_path)
    _, stale = _stale_shift(checkout, erp16, pusher)
    erp16.site.touch("POS Opening Entry", stale["name"], offline_id=None)
    late = sell(checkout, 11)
    report = pusher.push()
    (held,) = report.quarantined
    assert held.offline_id == late.offline_id
    assert held.message is not None and held.message.startswith(
        f"POS Opening Entry - {stale['name']} is outdated."
    )
    assert f"close {stale['name']} in ERPNext" in held.message
    assert erp16.site.get("POS Opening Entry", stale["name"])["status"] == "Open"
    (entry,) = journal_of(db_path, "sync_quarantine")
    assert entry.ref == late.offline_id and entry.actor == "agent"
    assert json.loads(entry.data)["message"] == held.message


def _make_sendable(db_path: Path) -> None:
    """Skip the back-off: every waiting entry may be sent now."""
    factory = make_session_factory(create_db_engine(db_path))
    with factory() as session:
        for entry in session.scalars(select(OutboxEntry)):
            entry.next_attempt_at = None
        session.commit()


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
    assert _totals_rules(db_path) == 15
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

    (mismatch,) = journal_of(db_path, "sync_mismatch")
    data = json.loads(mismatch.data)
    assert mismatch.ref == odd.offline_id and data["doctype"] == PI
    assert data["erpnext_name"].startswith("ACC-SINV-") and "rounded_total" in data["message"]
    (held,) = journal_of(db_path, "sync_quarantine")
    assert held.ref == poison
    assert json.loads(held.data)["message"] == "Row #1: Item SKU-000013 is frozen for audit"

    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    journal = status["sync_journal"]
    assert journal["counts"] == {
        "sync_quarantine": 1,
        "sync_mismatch": 1,
        "outbox_retry": 0,
        "pull_skipped": 0,
    }
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
    me = (erp16.api_key, erp16.api_secret, erp16.user)
    day = "%Y-%m-%d 08:00:00"
    assert open_shift_over_http(erp16, "Main POS", me, 50, day).status_code == 200
    second = open_shift_over_http(erp16, "Main POS", me, 50, day)
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
    pusher.send_batch(pusher._claim()[0], report)
    assert not report.quarantined and [o.offline_id for o in report.created] == [sale.offline_id]
    assert pusher.mode == ServerMode("16.9.1", PI)
    rejected = [e for e in erp16.log if e.path == "/api/resource/Sales Invoice" and e.status == 417]
    assert len(rejected) == 1
    assert [i["offline_id"] for i in erp16.site.all(PI)] == [sale.offline_id]


def _totals_rules(db_path: Path) -> int:
    from appliance.store.models import TotalsSettingsRow

    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        row = session.get(TotalsSettingsRow, 1)
        assert row is not None
        return row.to_settings().erpnext_version


def test_the_till_computes_totals_by_its_servers_rules(
    checkout: Checkout, db_path: Path, erp16: FakeERPNext, client16: ERPNextClient
) -> None:
    """ERPNext 16 spreads a discount differently (golden-v16): the agent records the version it
    found, and the till's next sale is computed by that version's rules."""
    assert _totals_rules(db_path) == 15  # nothing known yet: 15's rules
    _shift(checkout, db_path)
    assert make_pusher(client16, db_path).push().stopped is None
    assert _totals_rules(db_path) == 16
    from appliance.config import load_config
    from appliance.counter.commands import open_checkout
    from appliance.demo import DEMO_CONFIG

    reopened = open_checkout(load_config(DEMO_CONFIG), db_path)
    try:
        assert reopened.profile.settings.erpnext_version == 16
    finally:
        reopened.close()


@pytest.mark.parametrize("fake", ["erp16", "erp16_pos"])
def test_fake_16_checks_a_sales_rows_links_whatever_the_doctype(
    fake: str, request: pytest.FixtureRequest
) -> None:
    """A row naming an Item Tax Template the site does not have is refused (Frappe validates
    every Link of a child row), in Sales Invoice mode as in POS Invoice mode."""
    erp: FakeERPNext = request.getfixturevalue(fake)
    s = _session(erp)
    me = (erp.api_key, erp.api_secret, erp.user)
    assert open_shift_over_http(erp, "Main POS", me, 50).status_code == 200
    doctype = v16.invoice_type(erp.site)
    account = erp.site.all("Mode of Payment")[0]["accounts"][0]["default_account"]
    sale = {
        "customer": erp.site.all("Customer")[0]["name"],
        "company": "Prairie Pine Co",
        "pos_profile": "Main POS",
        "is_pos": 1,
        "is_created_using_pos": 1,
        "currency": "CAD",
        "items": [
            {"item_code": "SKU-000010", "qty": 1, "rate": 10, "item_tax_template": "No Such Tax"}
        ],
        "payments": [{"mode_of_payment": "Cash", "amount": 100, "account": account}],
        "paid_amount": 100,
        "docstatus": 1,
    }
    answer = s.post(f"{erp.url}/api/resource/{doctype}", json=sale)
    assert answer.status_code == 417, answer.text
    assert answer.json()["exc_type"] == "LinkValidationError"
    assert "Row #1: Item Tax Template: No Such Tax" in answer.text
    del sale["items"][0]["item_tax_template"]
    sale["payments"] = [{"mode_of_payment": "Bitcoin", "amount": 100, "account": account}]
    answer = s.post(f"{erp.url}/api/resource/{doctype}", json=sale)
    assert answer.status_code == 417, answer.text
    assert "Row #1: Mode of Payment: Bitcoin" in answer.text
    assert erp.site.all(doctype) == []

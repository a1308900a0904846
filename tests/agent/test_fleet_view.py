"""The fleet view: a till reports into its POS Appliance Terminal record over its normal sync,
and answers a support-bundle request made there. Against the fake over real HTTP, on sites set up
by `appliance erpnext setup` (ERPNext 15 in POS Invoice mode, 16 in both modes)."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance import __version__
from appliance.agent.client import ERPNextClient
from appliance.agent.fleet import FleetReporter
from appliance.agent.schema import (
    REPORT_FIELDS,
    SUPPORT_AT,
    SUPPORT_FILE,
    SUPPORT_REQUEST,
    TERMINAL_DOCTYPE,
)
from appliance.agent.service import Syncer
from appliance.agent.setup import Status, run_setup
from appliance.cli import main
from appliance.config import load_config
from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, make_client, sell, write_config

F = REPORT_FIELDS
TILL = "DEMO1"
MODES = [(15, "POS Invoice"), (16, "Sales Invoice"), (16, "POS Invoice")]


@pytest.fixture(params=MODES, ids=lambda m: f"v{m[0]}-{m[1].replace(' ', '')}")
def site(request: pytest.FixtureRequest) -> Iterator[FakeERPNext]:
    """A site as ERPNext ships it; IT then runs `erpnext setup` and registers the till."""
    version, invoice_type = request.param
    # (invoice_type matters on 16 only: 15 always takes POS Invoices)
    with FakeERPNext(
        all_masters(SMALL), version=version, invoice_type=invoice_type, set_up=False
    ) as fake:
        it = make_client(fake)
        try:
            report = run_setup(it)
            assert not report.missing, report.as_dict()
            assert run_setup(it).writes == 0  # idempotent, new fields included
            it.insert(TERMINAL_DOCTYPE, {"terminal_id": TILL, "pos_profile": "Main POS"})
        finally:
            it.close()
        yield fake


def record(erp: FakeERPNext) -> dict[str, object]:
    return erp.site.get(TERMINAL_DOCTYPE, TILL)


def puts(erp: FakeERPNext) -> int:
    path = f"/api/resource/{TERMINAL_DOCTYPE}/{TILL}"
    return sum(1 for e in erp.log if e.method == "PUT" and e.path == path)


def _till_sold(checkout: Checkout, db_path: Path, erp: FakeERPNext, mp: pytest.MonkeyPatch) -> None:
    """The till's config points at ``erp``; a shift is open with one sale in it."""
    mp.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)


def test_each_sync_reports_the_till_into_its_record_only_when_something_changed(
    checkout: Checkout, db_path: Path, site: FakeERPNext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _till_sold(checkout, db_path, site, monkeypatch)
    poison = sell(checkout, 11).offline_id
    site.reject(poison, "Row #1: Rate cannot be zero for this item (call ana@example.com)")

    assert main(["sync", "--once"]) == 0
    got = record(site)
    assert got[F.release] == __version__
    assert got[F.link] == "up"
    assert got[F.unsent] == 0 and got[F.quarantined] == 1
    reasons = str(got[F.quarantine_reasons])
    assert poison in reasons and "Rate cannot be zero" in reasons
    assert "ana@example.com" not in reasons  # a customer's contact is not for every IT user
    assert got[F.healthy] == 0 and "queue: 1 document quarantined" in str(got[F.problems])
    assert str(got[F.vault]).startswith("not encrypted")  # a CI machine has no vault
    seen = datetime.strptime(str(got[F.last_seen]), "%Y-%m-%d %H:%M:%S")
    assert abs(seen - site.site.now()) < timedelta(minutes=2)  # in the site's time zone
    assert got[F.last_pull] and got[F.disk_free_mb]
    assert puts(site) == 1

    # Nothing changed: the next cycle reads the record and writes nothing.
    assert main(["sync", "--once"]) == 0
    assert puts(site) == 1

    long_ago = (site.site.now() - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    site.site.touch(TERMINAL_DOCTYPE, TILL, **{F.last_seen: long_ago})
    assert main(["sync", "--once"]) == 0
    assert puts(site) == 2  # the heartbeat: last seen refreshed although nothing else changed
    assert record(site)[F.last_seen] != long_ago


def test_support_bundle_requested_in_erpnext_is_attached_and_the_request_cleared(
    checkout: Checkout,
    db_path: Path,
    site: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _till_sold(checkout, db_path, site, monkeypatch)
    assert main(["sync", "--once"]) == 0
    assert record(site)[SUPPORT_FILE] in (None, "")

    site.site.touch(TERMINAL_DOCTYPE, TILL, **{SUPPORT_REQUEST: 1})  # support ticks it
    # Root took a bundle over SSH before: the data directory's support/ is not the agent's.
    (db_path.parent / "support").mkdir(mode=0o500)
    capsys.readouterr()
    assert main(["sync", "--once"]) == 0
    said = json.loads(capsys.readouterr().out)["fleet"]
    assert said["bundle"].startswith("/private/files/") and SUPPORT_REQUEST in said["reported"]
    got = record(site)
    assert got[SUPPORT_REQUEST] == 0 and got[SUPPORT_AT]
    url = str(got[SUPPORT_FILE])
    assert url.startswith(f"/private/files/appliance-support-{TILL}-") and url.endswith(".tar.gz")
    (file,) = [f for f in site.site.all("File") if f["file_url"] == url]
    assert (file["attached_to_doctype"], file["attached_to_name"]) == (TERMINAL_DOCTYPE, TILL)
    assert file["is_private"] == 1
    content = site.site.files[file["name"]]
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
        names = {m.name.split("/", 1)[1] for m in tar.getmembers()}
        members = [tar.extractfile(m) for m in tar.getmembers()]
        texts = [m.read() for m in members if m is not None]
    assert {"manifest.json", "health.json", "sync-state.json"} <= names
    assert not any(site.api_secret.encode() in t for t in texts)
    assert not list(db_path.parent.rglob("*.tar.gz"))  # no copy left on the till

    # Cleared: the next cycle makes no second bundle.
    assert main(["sync", "--once"]) == 0
    assert len(site.site.all("File")) == 1


def test_a_site_without_the_write_grant_refuses_the_report_until_setup_runs(
    checkout: Checkout, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a stock site: the integration user (Accounts User, no System Manager) may not write
    the terminal registry until `erpnext setup` grants it; the sales sync on regardless."""
    with FakeERPNext(all_masters(SMALL)) as erp:
        roles = ["Accounts User", "Sales Manager", "Sales User", "Stock User"]
        user = erp.site.docs["User"][erp.user]
        user["roles"] = [{"role": r} for r in roles]
        # The reads a pull needs, granted to Accounts User by the site's administrator (a stock
        # site keeps them to System Manager and others: READ_ROLES).
        for allowed in erp.site.meta.read_roles.values():
            allowed.append("Accounts User")
        perms = erp.site.docs["DocType"][TERMINAL_DOCTYPE]["permissions"]
        for row in perms:  # as an older setup left it: read only
            if row["role"] == "Accounts User":
                row.pop("write", None)
        erp.site.load(
            [{"doctype": TERMINAL_DOCTYPE, "name": TILL, "terminal_id": TILL, "enabled": 1}]
        )
        _till_sold(checkout, db_path, erp, monkeypatch)
        assert main(["sync", "--once"]) == 0  # the sale went through
        assert len(erp.posts("POS Invoice")) == 1
        assert record(erp).get(F.last_seen) is None
        assert any(e.method == "PUT" and e.status == 403 for e in erp.log)

        erp.site.users["admin-key"] = ("admin-secret", "Administrator")
        admin = ERPNextClient(erp.url, "admin-key", "admin-secret")
        agent = make_client(erp)
        try:
            report = run_setup(admin, agent=agent)
        finally:
            admin.close()
            agent.close()
        fixed = [f for f in report.findings if f.what == f"DocType {TERMINAL_DOCTYPE}"]
        assert fixed[0].status is Status.UPDATED
        assert "permission for Accounts User: write is None, want 1" in fixed[0].detail
        assert main(["sync", "--once"]) == 0
        assert record(erp)[F.release] == __version__


def test_unknown_fields_are_ignored_by_a_put_as_frappe_does(site: FakeERPNext) -> None:
    """Frappe's save writes only the doctype's columns: a field it does not have is dropped
    without an error, so the agent checks the answer rather than trusting its own request."""
    client = make_client(site)
    try:
        saved = client.update(TERMINAL_DOCTYPE, TILL, {"no_such_field": 1, F.unsent: 3})
    finally:
        client.close()
    assert "no_such_field" not in saved and saved[F.unsent] == 3


def test_a_record_missing_the_fleet_fields_is_said_once_and_not_rewritten_every_cycle(
    checkout: Checkout, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeERPNext(all_masters(SMALL)) as erp:
        doctype = erp.site.docs["DocType"][TERMINAL_DOCTYPE]
        doctype["fields"] = [f for f in doctype["fields"] if f["fieldname"] != F.last_seen]
        erp.site.load([{"doctype": TERMINAL_DOCTYPE, "name": TILL, "terminal_id": TILL}])
        monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
        cfg = load_config()
        assert cfg.erpnext is not None
        syncer = Syncer(cfg.erpnext, db_path, fleet=FleetReporter(TILL, cfg.source))
        try:
            syncer.recover()
            syncer.cycle(pull=True)
            first = syncer.last_visit
            syncer.cycle(pull=True)
            second = syncer.last_visit
        finally:
            syncer.close()
        assert first is not None and first.problem is not None
        assert "run `appliance erpnext setup`" in first.problem
        assert second is not None and second.sent == {}
        assert puts(erp) == 1


def test_the_slow_store_check_runs_hourly_and_its_verdict_is_reported_in_between(
    db_path: Path, tmp_path: Path
) -> None:
    """`appliance db check` reads the whole store (2 s for 5,000 sales on the test machine):
    the fleet view runs it once an hour and reports that verdict until the next run."""
    reporter = FleetReporter(TILL, None, db_check_every=3600)
    assert "database" not in str(reporter.report(None)[F.problems])
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM alembic_version")
    assert "database" not in str(reporter.report(None)[F.problems])  # not due yet
    restarted = FleetReporter(TILL, None)  # (or an hour later)
    assert "database: " in str(restarted.report(None)[F.problems])


def test_a_bundle_that_cannot_be_made_says_why_in_the_record_and_keeps_the_request(
    checkout: Checkout,
    db_path: Path,
    site: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _till_sold(checkout, db_path, site, monkeypatch)
    site.site.touch(TERMINAL_DOCTYPE, TILL, **{SUPPORT_REQUEST: 1})
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))  # no room to build it in
    assert main(["sync", "--once"]) == 0  # the sync itself is not affected
    got = record(site)
    assert got[SUPPORT_REQUEST] == 1  # support's request stands
    assert str(got[SUPPORT_FILE]).startswith("not made (")
    assert "No such file or directory" in str(got[SUPPORT_FILE])
    assert len(str(got[SUPPORT_FILE])) <= 140  # a Data field
    assert site.site.all("File") == []


def test_a_till_whose_pull_keeps_failing_still_reports_why(
    checkout: Checkout,
    db_path: Path,
    site: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The sales go through but one listing fails on ERPNext's side at every pull: the record
    is still refreshed, and once health fails it names the error, so IT sees a till that is up
    and failing, not one that went quiet."""
    _till_sold(checkout, db_path, site, monkeypatch)
    why = "'NoneType' object has no attribute 'price_list_rate'"
    site.break_listing("Item Price", why)
    for _ in range(3):  # state.FAILING_CYCLES cycles in a row
        assert main(["sync", "--once"]) == 1
    assert len(site.posts()) >= 2  # the opening and the sale went through
    got = record(site)
    assert got[F.last_seen] and got[F.unsent] == 0
    assert got[F.healthy] == 0
    assert "sync failed 3 cycles in a row" in str(got[F.problems]) and why in str(got[F.problems])

    site.break_listing("Item Price", None)
    assert main(["sync", "--once"]) == 0
    assert "sync" not in str(record(site)[F.problems])  # said again once it works

    site.stop()  # no answer at all: the report is not tried (it could only wait and fail)
    capsys.readouterr()
    assert main(["sync", "--once"]) == 1
    assert json.loads(capsys.readouterr().out)["fleet"] is None

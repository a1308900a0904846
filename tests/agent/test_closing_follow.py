"""A closing ERPNext answers ``Queued`` is followed to its end, over real HTTP against the fake in
each mode (../shared/erpnext/closing/CLOSING.md, README "Stock deployments"): 10 or more POS
Invoices are consolidated by a background job that ends Submitted, or Failed with an
``error_message`` that the till, ``appliance status``, ``appliance health``, the journal and the
exit of ``sync --once`` all carry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
import requests

from appliance.cli import main
from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from appliance.store import sync_state as state
from appliance.store.db import create_db_engine, make_session_factory
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, journal_of, sell, sync_once, write_config
from tests.support.conftest import units_file

SALES = 12  # ERPNext queues a closing of 10 or more POS Invoices
WHY = (
    "Debit and Credit not equal for this Sales Invoice. Difference is -11.2. Please check the "
    "Round Off account of the company"
)
POS_MODES = [(15, "POS Invoice"), (16, "POS Invoice")]


@pytest.fixture(params=POS_MODES, ids=["v15", "v16-pos"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeERPNext]:
    version, invoice_type = request.param
    with FakeERPNext(all_masters(SMALL), version=version, invoice_type=invoice_type) as erp:
        yield erp


def _close_a_big_shift(checkout: Checkout, sales: int = SALES) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    for n in range(sales):
        sell(checkout, 10 + n % 20)
    expected = checkout.shift_report().modes
    checkout.close_shift(CASHIER, {m.mode_of_payment: m.expected_amount for m in expected})


def _status(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["status"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def _health(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[int, dict[str, Any]]:
    code = main(["health", "--units-from", str(units_file(tmp_path))])
    return code, json.loads(capsys.readouterr().out)


def test_a_queued_closing_is_read_again_until_submitted(
    checkout: Checkout,
    db_path: Path,
    fake: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, fake)))
    _close_a_big_shift(checkout)
    fake.hold_consolidation()  # ERPNext's worker is busy elsewhere for now

    code, summary, _ = sync_once(capsys)
    assert code == 0, summary  # queued is ERPNext still working, not a failure
    (closing,) = fake.site.all("POS Closing Entry")
    assert closing["status"] == "Queued"
    assert fake.site.all("POS Opening Entry")[0]["status"] == "Open"  # until it is merged
    (followed,) = _status(capsys)["shift"]["closings"]
    assert followed["name"] == closing["name"] and followed["status"] == "Queued"
    assert summary["shift_problem"] is None

    fake.hold_consolidation(False)
    code, summary, _ = sync_once(capsys)  # a later cycle, not a blocking wait
    assert code == 0, summary
    assert fake.site.get("POS Closing Entry", closing["name"])["status"] == "Submitted"
    assert fake.site.all("POS Opening Entry")[0]["status"] == "Closed"
    assert {i["status"] for i in fake.site.all("POS Invoice")} == {"Consolidated"}
    assert _status(capsys)["shift"]["closings"] == []
    (done,) = journal_of(db_path, "closing_consolidated")
    assert json.loads(done.data)["erpnext_name"] == closing["name"]
    assert len(fake.site.all("POS Closing Entry")) == 1  # followed, never sent again


def test_a_failed_consolidation_is_named_everywhere_until_it_is_retried(
    *,
    checkout: Checkout,
    db_path: Path,
    tmp_path: Path,
    fake: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, fake)))
    _close_a_big_shift(checkout)
    fake.fail_consolidation(WHY)

    code, summary, err = sync_once(capsys)
    (closing,) = fake.site.all("POS Closing Entry")
    assert closing["status"] == "Failed"
    assert code == 1 and "could not finish closing the shift" in err and WHY in err
    assert summary["shift_problem"]["needs_person"] is True
    shift = _status(capsys)["shift"]
    assert shift["closings"][0]["error_message"] == WHY
    assert "press Retry on POS Closing Entry " + closing["name"] in shift["problem"]["text"]
    code, report = _health(capsys, tmp_path)
    assert code == 1 and report["checks"]["sync"]["ok"] is False
    assert WHY in report["checks"]["sync"]["status"]
    (failed,) = journal_of(db_path, "closing_failed")
    assert json.loads(failed.data) == {
        "erpnext_name": closing["name"],
        "status": "Failed",
        "message": WHY,
    }
    assert failed.ref  # the closing's offline id

    sync_once(capsys)  # read again: still failed, journalled once
    assert len(journal_of(db_path, "closing_failed")) == 1

    fake.fail_consolidation(None)
    fake.site.retry_closing(closing["name"])  # IT fixed the cause and pressed Retry
    code, summary, _ = sync_once(capsys)
    assert code == 0 and summary["shift_problem"] is None
    assert fake.site.get("POS Closing Entry", closing["name"])["status"] == "Submitted"
    code, report = _health(capsys, tmp_path)
    assert code == 0, report["checks"]["sync"]
    assert len(journal_of(db_path, "closing_consolidated")) == 1


def test_sales_invoice_mode_on_16_is_never_queued(
    checkout: Checkout,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeERPNext(all_masters(SMALL), version=16, invoice_type="Sales Invoice") as erp:
        erp.hold_consolidation()  # no worker at all: nothing may depend on one
        monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
        _close_a_big_shift(checkout)
        code, summary, _ = sync_once(capsys)
        assert code == 0, summary
        (closing,) = erp.site.all("POS Closing Entry")
        # 16's Sales Invoice mode links its invoices and lists no POS Invoice to merge.
        assert closing["status"] == "Submitted" and len(closing["sales_invoices"]) == SALES
        assert erp.site.all("POS Opening Entry")[0]["status"] == "Closed"
        assert _status(capsys)["shift"]["closings"] == []


@pytest.mark.parametrize(("version", "invoice_type"), POS_MODES, ids=["v15", "v16-pos"])
def test_the_fake_queues_ten_invoices_and_consolidates_on_a_later_request(
    version: int, invoice_type: str, checkout: Checkout, db_path: Path
) -> None:
    """The fake itself, as recorded (closing/04-05): Queued with the background note, the
    opening still Open; consolidated before the next request is served."""
    from tests.agent.conftest import make_client, make_pusher

    with FakeERPNext(all_masters(SMALL), version=version, invoice_type=invoice_type) as erp:
        _close_a_big_shift(checkout, sales=10)
        make_pusher(make_client(erp), db_path).push()
        (queued,) = erp.site.all("POS Closing Entry")
        assert queued["status"] == "Queued"
        s = requests.Session()
        s.headers["Authorization"] = f"token {erp.api_key}:{erp.api_secret}"
        got = s.get(f"{erp.url}/api/resource/POS Closing Entry/{queued['name']}").json()["data"]
        assert got["status"] == "Submitted" and got["error_message"] == ""


def test_the_next_shift_on_16_waits_for_its_own_queued_closing_without_calling_it(
    checkout: Checkout,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On 16 the queued closing keeps its opening Open until merged, so the till's next opening
    is refused by the one-shift-per-profile rule meanwhile: that is ERPNext still working."""
    with FakeERPNext(all_masters(SMALL), version=16, invoice_type="POS Invoice") as erp:
        monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
        _close_a_big_shift(checkout)
        checkout.open_shift(CASHIER, {"Cash": D(100)})
        next_sale = sell(checkout, 30)
        erp.hold_consolidation()

        code, summary, err = sync_once(capsys)
        assert code == 0, err
        problem = summary["shift_problem"]
        assert problem["needs_person"] is False
        assert problem["short"] == "shift waits for ERPNext to finish the last close"
        assert [o["status"] for o in erp.site.all("POS Opening Entry")] == ["Open"]

        erp.hold_consolidation(False)
        code, summary, err = sync_once(capsys)
        assert code == 0, err
        assert summary["shift_problem"] is None
        assert sorted(o["status"] for o in erp.site.all("POS Opening Entry")) == ["Closed", "Open"]
        assert erp.site.find("POS Invoice", offline_id=next_sale.offline_id)


def test_a_midnight_rollover_on_16_waits_for_its_queued_interim_closing(
    checkout: Checkout, db_path: Path
) -> None:
    """16, POS Invoice mode: the interim closing of a stale opening with 10 or more sales is
    queued, so ERPNext keeps that opening Open and refuses today's opening for a while; the late
    sale is sent again later, never quarantined."""
    import time
    from datetime import datetime, timedelta

    from tests.agent.conftest import make_client, make_pusher

    with FakeERPNext(all_masters(SMALL), version=16, invoice_type="POS Invoice") as erp:
        pusher = make_pusher(make_client(erp), db_path)
        checkout.open_shift(CASHIER, {"Cash": D(100)})
        for n in range(10):
            sell(checkout, 10 + n)
        assert len(pusher.push().created) == 11
        (opening,) = erp.site.all("POS Opening Entry")
        day_before = datetime.fromisoformat(opening["period_start_date"]) - timedelta(days=1)
        erp.site.touch("POS Opening Entry", opening["name"], period_start_date=str(day_before))
        late = sell(checkout, 30)
        erp.hold_consolidation()

        report = pusher.push()
        assert not report.quarantined, report.as_dict()
        assert [o.offline_id for o in report.retrying] == [late.offline_id]
        (interim,) = erp.site.all("POS Closing Entry")
        assert interim["status"] == "Queued"
        watched = pusher.shift_watch.problem() if pusher.shift_watch else "no watch"
        assert watched is None  # followed, and ERPNext is only still working on it
        assert not erp.site.find("POS Invoice", offline_id=late.offline_id)

        erp.hold_consolidation(False)
        time.sleep(0.3)  # the test back-off
        report = pusher.push()
        assert not report.quarantined and len(report.created) == 1, report.as_dict()
        (sent,) = erp.site.find("POS Invoice", offline_id=late.offline_id)
        fresh = erp.site.get("POS Opening Entry", opening["name"])
        assert fresh["status"] == "Closed" and len(erp.site.all("POS Closing Entry")) == 1
        assert sent["docstatus"] == 1
        pusher.follow_shift()
        with make_session_factory(create_db_engine(db_path), read_only=True)() as session:
            assert state.read_state(session)["closings"] == {}  # followed to its end
        (done,) = journal_of(db_path, "closing_consolidated")
        assert json.loads(done.data)["erpnext_name"] == interim["name"]


def test_a_closing_queued_for_over_half_an_hour_fails_health_naming_the_worker(
    checkout: Checkout,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime, timedelta

    with FakeERPNext(all_masters(SMALL)) as erp:
        monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
        _close_a_big_shift(checkout)
        erp.hold_consolidation()  # ERPNext's scheduler is off: nothing ever runs the job
        assert sync_once(capsys)[0] == 0
        code, report = _health(capsys, tmp_path)
        assert code == 0, report["checks"]["sync"]  # a queued closing is ERPNext working

        # 40 minutes later (the followed closing's `since`, as the agent wrote it, moved back).
        write = make_session_factory(create_db_engine(db_path))
        with write() as session:
            closings = state.read_state(session)["closings"]
        (name,) = closings
        long_ago = datetime.now(UTC) - timedelta(minutes=40)
        closings[name]["since"] = long_ago.isoformat(timespec="seconds")
        state.write_state(write, {"closings": closings})

        code, report = _health(capsys, tmp_path)
        assert code == 1
        status = report["checks"]["sync"]["status"]
        assert f"queued the closing of the shift ({name}) for 40 min" in status
        assert "background workers" in status


def test_the_agents_status_line_names_a_failed_closing(checkout: Checkout, db_path: Path) -> None:
    """systemd's STATUS= (what `systemctl status appliance-agent` shows) says it too."""
    from tests.agent.test_service import _syncer

    with FakeERPNext(all_masters(SMALL), version=16, invoice_type="POS Invoice") as erp:
        _close_a_big_shift(checkout)
        erp.fail_consolidation(WHY)
        syncer = _syncer(db_path, erp)
        try:
            result = syncer.cycle()
            assert result.link.value == "up" and result.error is None
            assert syncer.status_line(result).endswith(
                ", link up, SHIFT CLOSE FAILED in ERPNext: call IT"
            )
        finally:
            syncer.close()


def test_a_closing_refused_for_an_inactive_scheduler_is_named_and_sent_once_it_runs(
    *,
    checkout: Checkout,
    db_path: Path,
    fake: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """CLOSING.md: queueing needs ERPNext's scheduler; without it the closing is refused (417
    "Scheduler is inactive. Cannot enqueue job.") and nothing is created. Not the closing's
    fault: retried, never quarantined, and IT is told what to switch on."""
    import time

    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, fake)))
    _close_a_big_shift(checkout)
    fake.set_scheduler(False)

    code, summary, err = sync_once(capsys)
    assert code == 1 and "enable the scheduler" in err
    assert "Scheduler is inactive. Cannot enqueue job." in err
    assert summary["push"]["quarantined"] == []
    assert fake.site.all("POS Closing Entry") == []
    assert summary["shift_problem"]["short"] == "SHIFT CLOSE REFUSED by ERPNext: call IT"
    (refused,) = journal_of(db_path, "shift_refused")
    assert json.loads(refused.data)["rule"] == "scheduler"

    fake.set_scheduler(True)
    time.sleep(2.1)  # the closing's back-off after one refusal (at most 2 s)
    code, summary, err = sync_once(capsys)
    assert code == 0, err
    (closing,) = fake.site.all("POS Closing Entry")
    assert closing["docstatus"] == 1 and summary["shift_problem"] is None
    assert _status(capsys)["shift"]["refused"] is None


# What a real ERPNext 15.70.2 wrote into a failed closing's error_message (docs/realserver-runs.md,
# 2026-12-07): a sale posted before the item's stock was, consolidated after it.
REAL_ERROR = (
    '<strong>1.0</strong> units of <a href="/app/Form/Item/SKU-04286" style="font-weight: bold;">'
    "Item SKU-04286: Item 04286 Crunchy Greek Yogurt 750ml</a> needed in "
    '<a href="/app/Form/Warehouse/Stores - PTC" style="font-weight: bold;">Warehouse Stores - '
    "PTC</a> to complete this transaction."
)


def test_a_failed_closings_html_reason_reaches_it_as_plain_text(
    *,
    checkout: Checkout,
    db_path: Path,
    fake: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, fake)))
    _close_a_big_shift(checkout)
    fake.fail_consolidation(REAL_ERROR)

    code, summary, err = sync_once(capsys)
    plain = (
        "1.0 units of Item SKU-04286: Item 04286 Crunchy Greek Yogurt 750ml needed in Warehouse "
        "Stores - PTC to complete this transaction"
    )
    (closing,) = fake.site.all("POS Closing Entry")
    assert code == 1
    assert summary["shift_problem"]["text"] == (
        f"ERPNext could not finish closing the shift ({closing['name']}): {plain}. The sales are "
        "safe and in ERPNext. IT: put the cause right in ERPNext, then press Retry on POS "
        f"Closing Entry {closing['name']}; the till follows it until it is Submitted."
    )
    assert "<" not in err
    assert _status(capsys)["shift"]["closings"][0]["error_message"] == plain + "."
    (failed,) = journal_of(db_path, "closing_failed")
    assert json.loads(failed.data)["message"] == plain + "."

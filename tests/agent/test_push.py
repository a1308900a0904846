"""Exactly-once push against the fake ERPNext over real HTTP, from a real SQLite store."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import event, select

from appliance.agent.push import MISMATCH_PREFIX, Pusher, PushReport
from appliance.counter.checkout import Checkout
from appliance.counter.customers import NewCustomer, create_customer
from appliance.sales import cart as carts
from appliance.sales.cart import TaxExemption
from appliance.sales.model import PaymentLine
from appliance.sales.payload import EXEMPTION_FIELD
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.models import OutboxEntry, OutboxState, PosInvoice
from fakeerp import FakeERPNext
from tests.agent.conftest import (
    CASHIER,
    barcode,
    make_client,
    make_pusher,
    return_all,
    sell,
)
from tests.shared import scan_on


def _entries(db_path: Path) -> list[OutboxEntry]:
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _receipt(db_path: Path, offline_id: str) -> str:
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == offline_id))
        assert sale is not None
        return sale.receipt_no


def _restart_finds_them(erp: FakeERPNext, db_path: Path, in_flight: int) -> None:
    """A fresh agent puts the ``in_flight`` entries back and finds each in ERPNext by offline
    id: nothing is posted again."""
    posts = len(erp.posts())
    second = make_pusher(make_client(erp), db_path)
    assert second.recover() == in_flight
    report = second.push()
    assert len(report.found) == in_flight and not report.created
    assert len(erp.posts()) == posts


def _shift(checkout: Checkout, db_path: Path) -> list[str]:
    """Open, three sales (one with change), a return, close. The sales' offline ids."""
    checkout.open_shift(CASHIER, {"Cash": D(150)})
    a = sell(checkout, 10, 11)
    b = sell(checkout, 12, change=D(20))
    c = sell(checkout, 13, 14, 15)
    return_all(checkout, _receipt(db_path, a.offline_id))
    checkout.close_shift(CASHIER, {"Cash": D(200)})
    return [a.offline_id, b.offline_id, c.offline_id]


def test_a_shift_lands_exactly_once(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    sales = _shift(checkout, db_path)
    report = pusher.push()
    assert report.stopped is None and not report.quarantined and not report.mismatches
    assert len(report.created) == 6  # opening, 3 sales, return, closing
    entries = _entries(db_path)
    assert {e.state for e in entries} == {OutboxState.DONE}
    assert all(e.erpnext_name for e in entries)

    opening = erp.site.all("POS Opening Entry")
    invoices = erp.site.all("POS Invoice")
    closing = erp.site.all("POS Closing Entry")
    assert len(opening) == 1 and len(invoices) == 4 and len(closing) == 1
    assert opening[0]["status"] == "Closed" and opening[0]["user"] == erp.user
    assert {i["status"] for i in invoices} == {"Consolidated"}
    (ret,) = [i for i in invoices if i["is_return"]]
    (orig,) = [i for i in invoices if i["offline_id"] == sales[0]]
    assert ret["return_against"] == orig["name"]
    assert ret["grand_total"] == -orig["grand_total"]
    # Each returned row names the row it returns: ERPNext checks no more comes back than sold.
    assert [r["pos_invoice_item"] for r in ret["items"]] == [r["name"] for r in orig["items"]]
    assert len(closing[0]["pos_transactions"]) == 4
    assert closing[0]["pos_opening_entry"] == opening[0]["name"]
    # Every document says which till made it (the field `erpnext setup` adds).
    assert {d["appliance_terminal"] for d in (*opening, *invoices, *closing)} == {"DEMO1"}
    # Names follow ERPNext's series.
    assert orig["name"].startswith("ACC-PSINV-") and opening[0]["name"].startswith("POS-OPE-")

    # A second cycle sends nothing, and a fresh agent re-checking everything creates nothing.
    posts = len(erp.posts())
    assert pusher.push().synced == 0
    assert len(erp.posts()) == posts


def test_dependency_order_is_respected(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    _shift(checkout, db_path)
    pusher.push()
    order = [e.path.rsplit("/", 1)[-1] for e in erp.posts()]
    assert order[0] == "POS Opening Entry" and order[-1] == "POS Closing Entry"
    assert order[1:-1] == ["POS Invoice"] * 4


def test_connection_dropped_after_commit_is_found_by_offline_id(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sold = [sell(checkout, n).offline_id for n in (20, 21, 22)]
    erp.drop_after_commit(2, doctype="POS Invoice")
    report = pusher.push()
    assert report.stopped is None and not report.quarantined
    invoices = erp.site.all("POS Invoice")
    assert sorted(i["offline_id"] for i in invoices) == sorted(sold)  # no duplicate
    assert {e.state for e in _entries(db_path)} == {OutboxState.DONE}
    dropped = [e for e in erp.log if e.status == 0]
    assert len(dropped) == 2
    assert len(erp.posts("POS Invoice")) == 3  # never re-posted


def test_in_flight_left_by_a_crash_is_rechecked_not_resent(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, client: object
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 30)
    first = make_pusher(make_client(erp), db_path)
    first.push()
    # Simulate a crash between ERPNext's commit and ours: put the sale back in flight.
    factory = make_session_factory(create_db_engine(db_path))
    with factory() as session:
        for entry in session.scalars(select(OutboxEntry)):
            entry.state, entry.erpnext_name = OutboxState.IN_FLIGHT, None
        session.commit()
    _restart_finds_them(erp, db_path, 2)
    assert all(e.erpnext_name for e in _entries(db_path))


def test_unique_violation_counts_as_synced(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sale = sell(checkout, 40)
    pusher.push()
    # The outbox forgets (as if its DONE was lost) and the batch lookup misses it: the insert
    # answers 417 UniqueValidationError, which the agent takes as "already there".
    factory = make_session_factory(create_db_engine(db_path))
    with factory() as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.offline_id == sale.offline_id))
        assert entry is not None
        entry.state, entry.erpnext_name = OutboxState.READY, None
        session.commit()
    original = pusher._lookup_many
    pusher._lookup_many = lambda jobs: {}  # type: ignore[method-assign]
    report = pusher.push()
    pusher._lookup_many = original  # type: ignore[method-assign]
    assert [o.offline_id for o in report.found] == [sale.offline_id]
    assert len(erp.site.all("POS Invoice")) == 1


def test_a_poison_invoice_is_quarantined_and_blocks_only_its_dependents(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    good = sell(checkout, 50)
    bad = sell(checkout, 51)
    also_good = sell(checkout, 52)
    back = return_all(checkout, _receipt(db_path, bad.offline_id))
    checkout.close_shift(CASHIER, {"Cash": D(0)})
    erp.reject(bad.offline_id, "Row #1: Item SKU-000051 is frozen for audit")

    report = pusher.push()
    assert report.stopped is None
    assert [(o.offline_id, o.message) for o in report.quarantined] == [
        (bad.offline_id, "Row #1: Item SKU-000051 is frozen for audit")
    ]
    states = {e.offline_id: e for e in _entries(db_path)}
    assert states[good.offline_id].state is OutboxState.DONE
    assert states[also_good.offline_id].state is OutboxState.DONE
    assert states[bad.offline_id].state is OutboxState.QUARANTINED
    assert states[bad.offline_id].last_error == "Row #1: Item SKU-000051 is frozen for audit"
    # The return of the poison sale and the closing wait; nothing else does.
    assert states[back.offline_id].state is OutboxState.READY
    closing = [e for e in states.values() if e.doctype == "POS Closing Entry"]
    assert closing[0].state is OutboxState.READY
    assert {i["offline_id"] for i in erp.site.all("POS Invoice")} == {
        good.offline_id,
        also_good.offline_id,
    }

    # A supervisor fixes the cause in ERPNext and releases it: everything follows.
    erp.unreject(bad.offline_id)
    from appliance.store import outbox

    factory = make_session_factory(create_db_engine(db_path))
    with factory() as session:
        entry = session.get(OutboxEntry, states[bad.offline_id].id)
        assert entry is not None
        outbox.release(session, entry)
        session.commit()
    report = pusher.push()
    assert len(report.created) == 3 and not report.quarantined
    assert {e.state for e in _entries(db_path)} == {OutboxState.DONE}


def test_erpnext_rejection_message_is_kept(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    erp.site.set_stock("SKU-000060", 0)
    short = sell(checkout, 60)
    fine = sell(checkout, 59)
    report = pusher.push()
    (q,) = report.quarantined
    assert q.offline_id == short.offline_id
    assert q.message == (
        "Row #1: Item Code: SKU-000060 is not available under warehouse Stores - PPC."
    )
    assert [i["offline_id"] for i in erp.site.all("POS Invoice")] == [fine.offline_id]


def test_bad_secret_stops_with_a_clear_status(
    checkout: Checkout, db_path: Path, erp: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    pusher = make_pusher(make_client(erp, secret="wrong"), db_path)
    report = pusher.push()
    assert report.stopped is not None and "authentication failed" in report.stopped
    assert "wrong" not in report.stopped
    entries = _entries(db_path)
    assert {e.state for e in entries} == {OutboxState.READY}  # untouched, nothing in flight
    assert all(e.next_attempt_at is None for e in entries)
    assert erp.posts() == []


def test_server_errors_back_off_then_succeed(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    import time

    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sell(checkout, 10)
    erp.fail_next(3, status=503)
    reports = []
    for _ in range(20):
        report = pusher.push()
        reports.append(report)
        if report.retry_after is None and not any(
            e.state is not OutboxState.DONE for e in _entries(db_path)
        ):
            break
        time.sleep(report.retry_after or 0.05)
    assert {e.state for e in _entries(db_path)} == {OutboxState.DONE}
    waits = [r.retry_after for r in reports if r.retry_after is not None]
    assert len(waits) == 3 and all(w > 0 for w in waits)
    assert len(erp.site.all("POS Invoice")) == 1


def test_a_totals_difference_is_flagged_loudly(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher, caplog: object
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    # Someone turns rounded totals off on the server mid-shift (closing/CLOSING.md).
    erp.site.touch("Global Defaults", "Global Defaults", disable_rounded_total=1)
    sale = sell(checkout, 10, 11, 12, change=D(5))
    report = pusher.push()
    (m,) = report.mismatches
    assert m.offline_id == sale.offline_id and m.message and m.message.startswith(MISMATCH_PREFIX)
    assert "rounded_total" in m.message
    entry = {e.offline_id: e for e in _entries(db_path)}[sale.offline_id]
    assert entry.state is OutboxState.DONE and (entry.last_error or "").startswith(MISMATCH_PREFIX)


def test_payload_sent_is_the_stored_payload_with_names_substituted(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sale = sell(checkout, 10)
    back = return_all(checkout, _receipt(db_path, sale.offline_id))
    pusher.push()
    (ret,) = erp.site.find("POS Invoice", offline_id=back.offline_id)
    assert "offline_return_against" not in ret
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        stored = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == back.offline_id))
        assert stored is not None
        body = json.loads(stored.payload)
    assert body["offline_return_against"] == sale.offline_id
    assert ret["set_posting_time"] == 1 and ret["posting_time"] == body["posting_time"]


def test_claims_cut_short_do_not_count_towards_quarantine(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    """Only ERPNext's answers count: a sale claimed and cut short 8 times (restarts, a lost link)
    is not quarantined on its first server error; after 8 server errors it is."""
    import time

    checkout.open_shift(CASHIER, {"Cash": D(0)})
    customer = next(iter(erp.site.docs["Customer"]))
    sale = sell(checkout, 10, customer=customer)
    assert pusher.push().stopped is None  # the opening goes, the sale too: then take one more
    del erp.site.docs["Customer"][customer]  # ERPNext now fails on it with a TypeError (500)
    late = sell(checkout, 11, customer=customer)
    for _ in range(8):  # claimed, then the agent was killed before any answer
        pusher._claim()
        pusher.recover()
    report = pusher.push()
    assert not report.quarantined, "quarantined on its first server error"
    (entry,) = [e for e in _entries(db_path) if e.offline_id == late.offline_id]
    # 1 server answer, not 9: the cut claims did not count. (A loaded machine's slow cycle may
    # outlast the test's 0.2 s backoff and ask once more in the same push: 2 answers.)
    assert entry.attempts in {1, 2} and entry.state is OutboxState.READY
    for _ in range(20):
        time.sleep(0.25)  # the test pusher's backoff caps at 0.2 s
        report = pusher.push()
        if report.quarantined:
            break
    (entry,) = [e for e in _entries(db_path) if e.offline_id == late.offline_id]
    # 7 server errors retried, the 8th quarantined it
    assert entry.state is OutboxState.QUARANTINED and entry.attempts == 7
    assert sale.offline_id in {i["offline_id"] for i in erp.site.all("POS Invoice")}


def test_a_tax_exempt_sale_reaches_erpnext_with_its_certificate(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    """The certificate number typed at the till is on the invoice ERPNext keeps (the custom
    field `erpnext setup` adds) and in its remarks; ERPNext's totals are the till's."""
    engine = create_db_engine(db_path)
    board = NewCustomer(
        "Maple School Board", province="British Columbia", tax_category="Tax Exempt"
    )
    name = create_customer(make_session_factory(engine), board, CASHIER)
    engine.dispose()
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    cart = checkout.read(scan_on(checkout.new_cart(), barcode(10)))
    exemption = TaxExemption("BC-EX-20931", "bo@example.com")
    cart = checkout.read(lambda till: till.set_customer(cart, name, exemption))
    assert cart.tax_exemption is not None and cart.totals is not None
    cart = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
    checkout.commit(cart, CASHIER)
    assert cart.totals is not None

    report = pusher.push()
    assert not report.quarantined and not report.mismatches, report
    (invoice,) = [i for i in erp.site.all("POS Invoice") if i["offline_id"] == cart.offline_id]
    assert invoice[EXEMPTION_FIELD] == "BC-EX-20931"
    assert "certificate BC-EX-20931, approved by bo@example.com" in invoice["remarks"]
    assert D(str(invoice["grand_total"])) == cart.totals.grand_total
    assert not any(t.get("tax_amount") for t in invoice.get("taxes") or [])


def test_a_batch_settles_its_sales_in_one_store_commit(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, client: object
) -> None:
    """Marking each created sale DONE in a transaction of its own cost a disk sync per sale
    (the push ran at a quarter of the bare insert rate): a batch's outcomes are one commit."""
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    for n in range(10):
        sell(checkout, 10 + n % 6)
    pusher = make_pusher(make_client(erp), db_path, batch_size=20)
    commits = 0

    def count(session: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(pusher._write, "after_commit", count)
    report = pusher.push()
    assert len(report.created) == 11 and report.stopped is None
    assert {e.state for e in _entries(db_path)} == {OutboxState.DONE}
    # Per cycle: two claims (the second finds nothing), the server's version, the opening (a
    # shift document settles at once) and its watch, then the ten sales' outcomes together.
    assert commits <= 6  # one per sale was 15


def test_sales_created_but_not_yet_settled_when_the_agent_dies_are_found_not_resent(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, client: object
) -> None:
    """The agent killed after ERPNext created a batch's sales, before the store marked them
    DONE: the next start finds each by its offline id; none is posted twice."""
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    make_pusher(make_client(erp), db_path).push()  # the opening
    sold = [sell(checkout, 10 + n).offline_id for n in range(5)]
    dying = make_pusher(make_client(erp), db_path, batch_size=20)
    jobs, _ = dying._claim()
    dying.send_batch(jobs, PushReport())  # sent; the batch's commit never happens
    assert {e.state for e in _entries(db_path) if e.offline_id in sold} == {OutboxState.IN_FLIGHT}
    _restart_finds_them(erp, db_path, 5)
    assert sorted(i["offline_id"] for i in erp.site.all("POS Invoice")) == sorted(sold)
    assert {e.state for e in _entries(db_path)} == {OutboxState.DONE}

"""A stock ERPNext deployment's limits (../shared/erpnext/README.md, "Stock deployments"): the fake
refuses what gunicorn refuses, and the agent still pulls a big catalog and closes a big shift."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.counter.checkout import Checkout
from appliance.demo.masters import DemoSize, all_masters
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Item, ItemBarcode, ItemPrice, OutboxEntry, OutboxState
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, make_client, make_pusher, sell
from tests.agent.test_pull import _puller

AUTH = {"Authorization": "token agent-key:agent-secret"}


def _raw(erp: FakeERPNext, request: bytes) -> bytes:
    host, port = erp.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_fake_refuses_a_long_request_line_as_gunicorn_does(erp: FakeERPNext) -> None:
    target = "/api/resource/Item?filters=" + "x" * 5000
    answer = _raw(erp, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head, _, page = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Content-Type: text/html" in head and b"Connection: close" in head
    line = len(f"GET {target} HTTP/1.1")
    assert f"Request Line is too large ({line} &gt; 4094)".encode() in page
    assert b"<title>Bad Request</title>" in page
    # Just under the limit passes through to the site.
    fits = "/api/resource/Item?limit_page_length=1&x=" + "y" * (4094 - 60)
    ok = requests.get(erp.url + fits, headers=AUTH, timeout=5)
    assert len(f"GET {fits} HTTP/1.1") <= 4094 and ok.status_code == 200


def test_fake_refuses_too_many_or_too_long_headers(erp: FakeERPNext) -> None:
    many = {f"X-H{n}": "v" for n in range(100)}
    assert requests.get(erp.url + "/api/resource/Item", headers=many, timeout=5).status_code == 431
    long_one = {**AUTH, "X-Long": "v" * 8200}
    refused = requests.get(erp.url + "/api/resource/Item", headers=long_one, timeout=5)
    assert refused.status_code == 431 and "Request Header Fields Too Large" in refused.text
    fine = {**AUTH, "X-Long": "v" * 8000}
    assert requests.get(erp.url + "/api/resource/Item", headers=fine, timeout=5).ok


def test_get_list_by_post_answers_as_the_resource_listing(erp: FakeERPNext) -> None:
    names = [f"SKU-{n:06d}" for n in range(1, 41)]
    args = {
        "fields": '["name", "item_name"]',
        "filters": f'[["name", "in", {names!r}]]'.replace("'", '"'),
        "order_by": "name desc",
        "limit_start": "3",
        "limit_page_length": "10",
    }
    by_get = requests.get(erp.url + "/api/resource/Item", params=args, headers=AUTH, timeout=5)
    body = {"doctype": "Item", **args, "limit_start": 3, "limit_page_length": 10}
    by_post = requests.post(
        erp.url + "/api/method/frappe.client.get_list", json=body, headers=AUTH, timeout=5
    )
    assert by_get.ok and by_post.ok
    rows = by_get.json()["data"]
    assert len(rows) == 10 and rows[0]["name"] == "SKU-000037"
    assert by_post.json() == {"message": rows}
    # A child table needs its parent there too (recorded/05-06).
    child = {"doctype": "Item Barcode", "fields": ["parent"], "limit_page_length": 1}
    refused = requests.post(
        erp.url + "/api/method/frappe.client.get_list", json=child, headers=AUTH, timeout=5
    )
    assert refused.status_code == 403


def test_a_listing_too_long_for_a_url_goes_in_a_body(erp: FakeERPNext) -> None:
    client = make_client(erp)
    names = [f"SKU-{n:06d}" for n in range(1, 400)]  # 60 exist: ~5 KB of filter
    rows = client.get_list(
        "Item Barcode",
        fields=["parent"],
        filters=[["parent", "in", names]],
        limit_page_length=0,
        parent="Item",
    )
    assert {r["parent"] for r in rows} == set(names[: SMALL.items])
    assert [e.status for e in erp.log] == [200]
    assert erp.log[0].path == "/api/method/frappe.client.get_list"


def _fresh_store(tmp_path: Path) -> Path:
    db = tmp_path / "pos.db"
    upgrade_to_head(db)
    return db


@pytest.mark.slow
def test_first_pull_of_a_10000_item_catalog(tmp_path: Path) -> None:
    size = DemoSize(items=10_000, extra_barcodes=2_000, customers=300)
    with FakeERPNext(all_masters(size)) as erp:
        db = _fresh_store(tmp_path)
        engine = create_db_engine(db)
        client = make_client(erp, timeout=30)
        report = _puller(client, db, page_size=500).pull()
        client.close()
        refused = [e for e in erp.log if e.status >= 400]
        assert refused == []
        assert report.complete and report.applied["Item"] == size.items
        with make_session_factory(engine, read_only=True)() as session:
            assert session.scalar(select(func.count()).select_from(Item)) == size.items
            barcodes = session.scalar(select(func.count()).select_from(ItemBarcode))
            assert barcodes == size.items + size.extra_barcodes
            assert (session.scalar(select(func.count()).select_from(ItemPrice)) or 0) >= size.items
        engine.dispose()


@pytest.fixture(params=[(15, "POS Invoice"), (16, "Sales Invoice")], ids=["v15", "v16-si"])
def big_shift_erp(request: pytest.FixtureRequest) -> Iterator[FakeERPNext]:
    version, invoice_type = request.param
    options = {"version": version, "invoice_type": invoice_type} if version >= 16 else {}
    with FakeERPNext(all_masters(SMALL), **options) as fake:
        yield fake


@pytest.mark.slow
def test_a_200_sale_shift_closes(
    checkout: Checkout, db_path: Path, big_shift_erp: FakeERPNext
) -> None:
    erp = big_shift_erp
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    for n in range(200):
        sell(checkout, 10 + n % 6)
    report = checkout.shift_report()
    checkout.close_shift(CASHIER, {m.mode_of_payment: m.expected_amount for m in report.modes})
    client = make_client(erp, timeout=30)
    pusher = make_pusher(client, db_path, batch_size=50)
    for _ in range(10):
        pushed = pusher.push()
        if not pushed.retrying and pushed.stopped is None:
            break
    client.close()
    with make_session_factory(create_db_engine(db_path), read_only=True)() as session:
        states = dict(
            session.execute(
                select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)
            ).all()
        )
    assert states == {OutboxState.DONE: 202}, states
    (closing,) = erp.site.all("POS Closing Entry")
    rows = closing.get("pos_transactions") or closing.get("sales_invoices") or []
    assert len(rows) == 200
    assert [e for e in erp.log if e.status == 400] == []


def test_the_client_never_sends_a_line_a_stock_server_refuses(erp: FakeERPNext) -> None:
    client = make_client(erp)
    names = [f"SKU-{n:06d}" for n in range(1, 400)]
    # call() moves arguments too long for a URL to a JSON body.
    count = client.call(
        "frappe.client.get_count", doctype="Item", filters=json.dumps([["name", "in", names]])
    )
    assert count == SMALL.items
    # A path cannot move: refused before sending, named, and a person must act.
    with pytest.raises(ERPNextError) as too_long:
        client.get_doc("Item", "x" * 5000)
    assert too_long.value.kind is ErrorKind.STOP and "request too large" in str(too_long.value)
    assert "not sent" in too_long.value.message
    assert [e.status for e in erp.log] == [200]


def test_a_site_under_a_long_prefix_counts_the_prefix(erp: FakeERPNext) -> None:
    """A site behind a path prefix: its requests are longer, the switch to a body comes sooner."""
    prefix = "/" + "p" * 3_700
    client = ERPNextClient(erp.url + prefix, erp.api_key, erp.api_secret, timeout=5)
    names = [f"SKU-{n:06d}" for n in range(1, 20)]  # fits a URL at the site's root
    with pytest.raises(ERPNextError):
        client.get_list("Item", filters=[["name", "in", names]])  # the fake has no prefix: 404
    (sent,) = erp.log
    assert (sent.method, sent.status) == ("POST", 404)
    assert sent.path == prefix + "/api/method/frappe.client.get_list"

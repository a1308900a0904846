"""The fake ERPNext answers like a real ERPNext 15 (tests/data/erpnext/recorded, vendored)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import requests

from fakeerp import FakeERPNext
from fakeerp import query as fake_query
from fakeerp import site as fake_site
from tests.shared import RECORDED


def _recorded(slug: str) -> tuple[int, dict[str, Any]]:
    meta = json.loads((RECORDED / f"{slug}.meta.json").read_text())
    return meta["status"], json.loads((RECORDED / f"{slug}.response.json").read_text())


def _session(erp: FakeERPNext, secret: str | None = None) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"token {erp.api_key}:{secret or erp.api_secret}"
    return s


def _same_shape(resp: requests.Response, slug: str) -> dict[str, Any]:
    status, body = _recorded(slug)
    got = resp.json()
    assert resp.status_code == status
    assert set(got) == set(body) - {"_exc_source"} | ({"_exc_source"} & set(got))
    assert got["exc_type"] == body["exc_type"]
    if "_server_messages" in body:
        for raw in json.loads(got["_server_messages"]):
            assert isinstance(json.loads(raw)["message"], str)
    return got  # type: ignore[no-any-return]


def _messages(body: dict[str, Any]) -> list[str]:
    return [json.loads(m)["message"] for m in json.loads(body.get("_server_messages", "[]"))]


def _open_shift(erp: FakeERPNext, s: requests.Session) -> str:
    r = s.post(
        f"{erp.url}/api/resource/POS Opening Entry",
        json={
            "company": "Prairie Pine Co",
            "pos_profile": "Main POS",
            "user": erp.user,
            "period_start_date": "2026-11-23 09:00:00",
            "posting_date": "2026-11-23",
            "balance_details": [{"mode_of_payment": "Cash", "opening_amount": 50}],
            "docstatus": 1,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "Open"
    return str(r.json()["data"]["name"])


def _invoice(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": "Walk-in Customer",
        "company": "Prairie Pine Co",
        "pos_profile": "Main POS",
        "is_pos": 1,
        "update_stock": 1,
        "posting_date": "2026-11-23",
        "posting_time": "19:05:00",
        "set_posting_time": 1,
        "currency": "CAD",
        "conversion_rate": 1,
        "selling_price_list": "Standard Selling",
        "set_warehouse": "Stores - PPC",
        "ignore_pricing_rule": 1,
        "taxes": [
            {
                "charge_type": "On Net Total",
                "account_head": "GST Payable - PPC",
                "description": "GST 5%",
                "rate": 5,
            }
        ],
        "items": [{"item_code": "SKU-000010", "qty": 1, "rate": 10, "warehouse": "Stores - PPC"}],
        "payments": [{"mode_of_payment": "Cash", "account": "Cash - PPC", "amount": 10.5}],
        "paid_amount": 10.5,
        "base_paid_amount": 10.5,
        "offline_id": "e6dcc077-3c48-4239-a7bd-6e0243850a3e",
        "docstatus": 1,
    }
    body.update(changes)
    return body


def test_auth_errors(erp: FakeERPNext) -> None:
    _same_shape(_session(erp, "bad").get(f"{erp.url}/api/resource/Item"), "15_bad_secret_401")
    got = _same_shape(requests.get(f"{erp.url}/api/resource/Customer"), "16_no_auth_403")
    assert got["_error_message"] == "No permission for Customer"


def test_unknown_doc_404(erp: FakeERPNext) -> None:
    got = _same_shape(
        _session(erp).get(f"{erp.url}/api/resource/Item/NO-SUCH-ITEM"), "17_unknown_doc_404"
    )
    assert _messages(got) == ["Item NO-SUCH-ITEM not found"]


def test_mandatory_and_link_errors(erp: FakeERPNext) -> None:
    s = _session(erp)
    got = _same_shape(
        s.post(f"{erp.url}/api/resource/Customer", json={"customer_type": "Individual"}),
        "18_mandatory_417",
    )
    assert _messages(got) == ["Error: Value missing for Customer: Customer Name"]
    got = _same_shape(
        s.post(
            f"{erp.url}/api/resource/Customer",
            json={"customer_name": "Link Test", "customer_group": "No Such Group"},
        ),
        "19_link_validation_417",
    )
    assert got["exception"].endswith("Could not find Customer Group: No Such Group")


def test_duplicate_name_409_and_renamed_customer(erp: FakeERPNext) -> None:
    s = _session(erp)
    item = {
        "item_code": "SKU-000001",
        "item_name": "x",
        "item_group": "Grocery",
        "stock_uom": "Nos",
    }
    _same_shape(s.post(f"{erp.url}/api/resource/Item", json=item), "22_item_duplicate_409")
    first = s.post(f"{erp.url}/api/resource/Customer", json={"customer_name": "Dup Name Test"})
    again = s.post(f"{erp.url}/api/resource/Customer", json={"customer_name": "Dup Name Test"})
    assert first.json()["data"]["name"] == "Dup Name Test"
    assert again.status_code == 200 and again.json()["data"]["name"] == "Dup Name Test - 1"
    assert _messages(again.json()) == [
        "Changed customer name to 'Dup Name Test - 1' as 'Dup Name Test' already exists."
    ]


def test_invoice_needs_an_open_opening_entry(erp: FakeERPNext) -> None:
    got = _same_shape(
        _session(erp).post(f"{erp.url}/api/resource/POS Invoice", json=_invoice()),
        "80_invoice_without_open_shift",
    )
    assert _messages(got) == [
        "No open POS Opening Entry found for POS Profile <strong>Main POS</strong>."
    ]


def test_invoice_insert_submit_then_unique_offline_id(erp: FakeERPNext) -> None:
    s = _session(erp)
    _open_shift(erp, s)
    r = s.post(f"{erp.url}/api/resource/POS Invoice", json=_invoice())
    assert r.status_code == 200, r.text
    doc = r.json()["data"]
    _, recorded = _recorded("27_invoice_with_offline_id")
    assert doc["name"].startswith("ACC-PSINV-") and doc["docstatus"] == 1
    for key in ("grand_total", "net_total", "total_taxes_and_charges", "paid_amount"):
        assert doc[key] == recorded["data"][key], key
    assert doc["status"] == "Paid"
    again = s.post(f"{erp.url}/api/resource/POS Invoice", json=_invoice())
    got = _same_shape(again, "28_invoice_same_offline_id_again")
    assert _messages(got) == ["Offline ID must be unique"]
    found = s.get(
        f"{erp.url}/api/resource/POS Invoice",
        params={
            "fields": json.dumps(["name", "offline_id", "docstatus", "grand_total"]),
            "filters": json.dumps([["offline_id", "=", doc["offline_id"]]]),
        },
    ).json()["data"]
    assert found == [
        {
            "name": doc["name"],
            "offline_id": doc["offline_id"],
            "docstatus": 1,
            "grand_total": doc["grand_total"],
        }
    ]


def test_invoice_rejections(erp: FakeERPNext) -> None:
    s = _session(erp)
    _open_shift(erp, s)
    url = f"{erp.url}/api/resource/POS Invoice"
    _same_shape(
        s.post(
            url,
            json=_invoice(
                offline_id="a", payments=[{"mode_of_payment": "Cash", "amount": 1}], paid_amount=1
            ),
        ),
        "36_invoice_underpaid",
    )
    _same_shape(
        s.post(
            url,
            json=_invoice(offline_id="b", items=[{"item_code": "NO-SUCH", "qty": 1, "rate": 1}]),
        ),
        "35_invoice_unknown_item_404",
    )
    erp.site.set_stock("SKU-000010", 143)
    got = _same_shape(
        s.post(
            url,
            json=_invoice(
                offline_id="c",
                items=[
                    {
                        "item_code": "SKU-000010",
                        "qty": 100000,
                        "rate": 10,
                        "warehouse": "Stores - PPC",
                    }
                ],
            ),
        ),
        "34_invoice_insufficient_stock",
    )
    assert "Available quantity 143.0" in _messages(got)[0]


def test_return_refunds_at_most_the_rounded_total(erp: FakeERPNext) -> None:
    s = _session(erp)
    _open_shift(erp, s)
    url = f"{erp.url}/api/resource/POS Invoice"
    # Whole-dollar rounding as on the recorded site: 10.50 rounds to 10.00 (recorded/33, 37).
    erp.site.touch("Currency", "CAD", smallest_currency_fraction_value=0)
    original = s.post(url, json=_invoice()).json()["data"]
    assert original["rounded_total"] == 10.0
    back = {
        "items": [{"item_code": "SKU-000010", "qty": -1, "rate": 10, "warehouse": "Stores - PPC"}],
        "is_return": 1,
        "return_against": original["name"],
    }
    too_much = _invoice(
        offline_id="r1",
        payments=[{"mode_of_payment": "Cash", "account": "Cash - PPC", "amount": -10.5}],
        paid_amount=-10.5,
        **back,
    )
    r = s.post(url, json=too_much)
    assert r.status_code == 417
    assert _messages(r.json())[-1] == (
        "Paid amount + Write Off Amount can not be greater than Grand Total"
    )
    right = _invoice(
        offline_id="r2",
        payments=[{"mode_of_payment": "Cash", "account": "Cash - PPC", "amount": -10.0}],
        paid_amount=-10.0,
        **back,
    )
    r = s.post(url, json=right)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "Return" and r.json()["data"]["grand_total"] == -10.5


def test_a_second_return_of_what_was_given_back_is_refused(erp: FakeERPNext) -> None:
    """validate_returned_items (FACTS §3.13): per original row, no more back than was sold, the
    returns before this one included, whether the row is linked by pos_invoice_item or not."""
    s = _session(erp)
    _open_shift(erp, s)
    url = f"{erp.url}/api/resource/POS Invoice"
    original = s.post(url, json=_invoice()).json()["data"]
    row = original["items"][0]["name"]

    def give_back(offline_id: str, link: str | None, qty: int = -1) -> requests.Response:
        item = {"item_code": "SKU-000010", "qty": qty, "rate": 10, "warehouse": "Stores - PPC"}
        if link:
            item["pos_invoice_item"] = link
        body = _invoice(
            offline_id=offline_id,
            items=[item],
            is_return=1,
            return_against=original["name"],
            payments=[{"mode_of_payment": "Cash", "account": "Cash - PPC", "amount": -10.5}],
            paid_amount=-10.5,
        )
        return s.post(url, json=body)

    r = give_back("r0", row, qty=-2)
    assert r.status_code == 417 and r.json()["exc_type"] == "StockOverReturnError"
    assert _messages(r.json())[-1] == "Row # 1: Cannot return more than 1 for Item SKU-000010"
    assert give_back("r1", row).status_code == 200
    for offline_id, link in (("r2", row), ("r3", None)):
        r = give_back(offline_id, link)
        assert r.status_code == 417 and r.json()["exc_type"] == "StockOverReturnError"
        assert _messages(r.json())[-1] == "Item SKU-000010 has already been returned"


def test_child_tables_need_parent(erp: FakeERPNext) -> None:
    s = _session(erp)
    url = f"{erp.url}/api/resource/Item Barcode"
    fields = json.dumps(["parent", "barcode"])
    _same_shape(s.get(url, params={"fields": fields}), "05_list_child_table_needs_parent")
    params: dict[str, str | int] = {"fields": fields, "parent": "Item", "limit_page_length": 2}
    rows = s.get(url, params=params)
    assert rows.status_code == 200 and len(rows.json()["data"]) == 2


def test_incremental_listing_by_modified(erp: FakeERPNext) -> None:
    s = _session(erp)
    stamp = erp.site.touch("Item Price", "PRICE-000005", price_list_rate=9.99)
    params: dict[str, str | int] = {
        "fields": json.dumps(["name", "price_list_rate", "modified"]),
        "filters": json.dumps([["modified", ">", "2026-11-01 08:00:00.000000"]]),
        "order_by": "modified asc, name asc",
        "limit_page_length": 0,
    }
    rows = s.get(f"{erp.url}/api/resource/Item Price", params=params).json()["data"]
    assert rows == [{"name": "PRICE-000005", "price_list_rate": 9.99, "modified": stamp}]


def test_closing_consolidates_and_closes_the_opening(erp: FakeERPNext) -> None:
    s = _session(erp)
    opening = _open_shift(erp, s)
    inv = s.post(f"{erp.url}/api/resource/POS Invoice", json=_invoice()).json()["data"]
    closing = {
        "pos_opening_entry": opening,
        "period_start_date": "2026-11-23 09:00:00",
        "period_end_date": "2026-11-23 20:00:00",
        "company": "Prairie Pine Co",
        "pos_profile": "Main POS",
        "user": erp.user,
        "pos_transactions": [
            {
                "pos_invoice": inv["name"],
                "posting_date": inv["posting_date"],
                "customer": inv["customer"],
                "grand_total": inv["grand_total"],
            }
        ],
        "docstatus": 1,
    }
    wrong_user = s.post(
        f"{erp.url}/api/resource/POS Closing Entry", json={**closing, "user": "ana@example.com"}
    )
    assert wrong_user.status_code == 417
    r = s.post(f"{erp.url}/api/resource/POS Closing Entry", json=closing)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"].startswith("POS-CLO-")
    assert erp.site.get("POS Opening Entry", opening)["status"] == "Closed"
    assert erp.site.get("POS Invoice", inv["name"])["status"] == "Consolidated"
    # No open opening entry any more: a sale is refused.
    r = s.post(f"{erp.url}/api/resource/POS Invoice", json=_invoice(offline_id="later"))
    assert r.status_code == 417


def test_a_big_list_read_through_the_index_gives_the_rows_a_full_scan_gives() -> None:
    """Lists of 2,000 rows or more are read from the first row a keyset condition admits, as
    MariaDB reads through its index on ``modified``; the rows must be exactly those of
    filtering and sorting the whole list, across shared ``modified`` values and edits."""
    stamps = [f"2026-01-0{d} 10:00:00.000000" for d in range(1, 6)]
    items = [
        {"doctype": "Item", "name": f"I{n:05d}", "modified": stamps[n % 5], "item_group": "G"}
        for n in range(3000)
    ]
    site = fake_site.Site(items)
    site.list_docs("Item", {"order_by": "modified asc, name asc"})  # sorted before the edits
    site.touch("Item", "I00007", item_name="changed")  # the newest now, out of its old place
    site.delete("Item", "I00011")
    queries: list[dict[str, str]] = [
        {"order_by": "modified asc, name asc", "limit_page_length": "700"},
        {
            "order_by": "modified asc, name asc",
            "filters": json.dumps([["modified", ">=", stamps[2]]]),
            "or_filters": json.dumps([["modified", ">", stamps[2]], ["name", ">", "I01500"]]),
            "limit_page_length": "500",
        },
        {  # a cursor at the first row of a shared ``modified``: the seek must not skip it
            "order_by": "modified asc, name asc",
            "filters": json.dumps([["modified", ">=", stamps[4]]]),
            "or_filters": json.dumps([["modified", ">", stamps[4]], ["name", ">", ""]]),
            "limit_page_length": "30",
        },
        {
            "order_by": "modified asc, name asc",
            "filters": json.dumps([["modified", ">", stamps[3]], ["item_group", "=", "G"]]),
            "limit_start": "10",
            "limit_page_length": "100",
        },
    ]
    indexed = [site.list_docs("Item", {**q, "fields": '["name"]'}) for q in queries]
    original = fake_site.INDEXED_FROM
    fake_site.INDEXED_FROM = 10**9  # every list filtered and sorted whole
    try:
        scanned = [site.list_docs("Item", {**q, "fields": '["name"]'}) for q in queries]
    finally:
        fake_site.INDEXED_FROM = original
    assert indexed == scanned
    assert [len(rows) for rows in indexed] == [700, 500, 30, 100]
    assert indexed[1][-1] != indexed[1][0]


def test_the_fakes_filters_order_numbers_as_decimals_do() -> None:
    """Plain ints and floats are compared directly (pages of a first pull are filtered row by
    row); the order must be the one of their decimal texts, as before."""
    values = [0, 1, -1, 0.1, 0.30000000000000004, 0.3, 2.675, 10**12, 1e-9, 3, 3.0, -0.0]
    for a in values:
        for b in values:
            expected = (Decimal(str(a)) > Decimal(str(b))) - (Decimal(str(a)) < Decimal(str(b)))
            assert fake_query._compare(a, b) == expected, (a, b)

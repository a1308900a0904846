"""The ERPNext client: envelopes, paging, ``_server_messages``, error classes, no cookies, and
a secret that never shows."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
import requests

from appliance.agent.client import (
    ERPNextClient,
    ERPNextError,
    ErrorKind,
    decode_server_messages,
    error_from_response,
    read_secret,
)
from appliance.config import ERPNextConfig
from fakeerp import FakeERPNext
from tests.agent.conftest import SMALL, make_client
from tests.shared import RECORDED


def _recorded_response(slug: str) -> requests.Response:
    meta = json.loads((RECORDED / f"{slug}.meta.json").read_text())
    resp = requests.Response()
    resp.status_code = meta["status"]
    resp._content = (RECORDED / f"{slug}.response.json").read_bytes()
    resp.headers["Content-Type"] = "application/json"
    return resp


@pytest.mark.parametrize(
    ("slug", "kind", "exc_type", "message"),
    [
        ("15_bad_secret_401", ErrorKind.STOP, "AuthenticationError", "authentication failed"),
        ("16_no_auth_403", ErrorKind.STOP, "PermissionError", "User Guest does not have"),
        ("17_unknown_doc_404", ErrorKind.QUARANTINE, "DoesNotExistError", "Item NO-SUCH-ITEM"),
        ("18_mandatory_417", ErrorKind.QUARANTINE, "MandatoryError", "Error: Value missing"),
        ("19_link_validation_417", ErrorKind.QUARANTINE, "LinkValidationError", "Could not find"),
        ("22_item_duplicate_409", ErrorKind.QUARANTINE, "DuplicateEntryError", "Item SKU-0001"),
        ("28_invoice_same_offline_id_again", ErrorKind.QUARANTINE, "UniqueValidationError", ""),
        ("34_invoice_insufficient_stock", ErrorKind.QUARANTINE, "ValidationError", "Row #1: Stock"),
        ("35_invoice_unknown_item_404", ErrorKind.QUARANTINE, "DoesNotExistError", "Item NO-SUCH"),
        ("36_invoice_underpaid", ErrorKind.QUARANTINE, "PartialPaymentValidationError", "Partial"),
        ("80_invoice_without_open_shift", ErrorKind.QUARANTINE, "ValidationError", "No open POS"),
    ],
)
def test_recorded_errors_map_to_classes(
    slug: str, kind: ErrorKind, exc_type: str, message: str
) -> None:
    err = error_from_response(_recorded_response(slug))
    assert (err.kind, err.exc_type) == (kind, exc_type)
    assert err.message.startswith(message)
    assert "<strong>" not in err.message


def test_duplicates_are_recognised() -> None:
    assert error_from_response(_recorded_response("28_invoice_same_offline_id_again")).is_duplicate
    assert error_from_response(_recorded_response("32_customer_same_offline_id_again")).is_duplicate
    assert error_from_response(_recorded_response("22_item_duplicate_409")).is_duplicate
    assert not error_from_response(_recorded_response("34_invoice_insufficient_stock")).is_duplicate


def test_server_messages_decode_to_plain_text() -> None:
    body = json.loads((RECORDED / "80_invoice_without_open_shift.response.json").read_text())
    assert decode_server_messages(body["_server_messages"]) == [
        "No open POS Opening Entry found for POS Profile Main POS."
    ]
    ok = json.loads((RECORDED / "21_customer_duplicate_name.response.json").read_text())
    assert decode_server_messages(ok["_server_messages"]) == [
        "Changed customer name to 'Dup Name Test - 1' as 'Dup Name Test' already exists."
    ]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_trouble_is_retried(erp: FakeERPNext, client: ERPNextClient, status: int) -> None:
    erp.fail_next(1, status)
    with pytest.raises(ERPNextError) as info:
        client.get_list("Item")
    assert info.value.kind is ErrorKind.RETRY and info.value.status == status
    assert client.get_list("Item")  # and the next call works


def test_paging_reads_everything_in_cursor_order(client: ERPNextClient) -> None:
    pages = list(client.iter_list("Item", fields=["name", "modified"], page_size=7))
    names = [row["name"] for page in pages for row in page]
    assert len(names) == SMALL.items and len(set(names)) == SMALL.items
    assert all(len(p) == 7 for p in pages[:-1])
    assert names == sorted(names)  # same modified: name breaks the tie


def test_get_doc_has_children_and_none_when_unknown(client: ERPNextClient) -> None:
    doc = client.get_doc("POS Profile", "Main POS")
    assert doc is not None and doc["payments"][0]["mode_of_payment"] == "Cash"
    assert client.get_doc("Item", "NO-SUCH-ITEM") is None
    # Names with spaces, % and + are percent-encoded in the path.
    tax = client.get_doc("Sales Taxes and Charges Template", "BC GST+PST - PPC")
    assert tax is not None and tax["name"] == "BC GST+PST - PPC"


def test_no_cookie_is_kept(erp: FakeERPNext, client: ERPNextClient) -> None:
    client.get_list("Item")
    client.logged_user()
    assert len(client._session.cookies) == 0


def test_who_am_i(erp: FakeERPNext, client: ERPNextClient) -> None:
    assert client.logged_user() == erp.user


def test_a_timeout_on_insert_may_have_committed(erp: FakeERPNext) -> None:
    client = make_client(erp, timeout=0.2)
    erp.set_delay(600)
    with pytest.raises(ERPNextError) as info:
        client.insert("Customer", {"customer_name": "Slow"})
    assert info.value.kind is ErrorKind.RETRY and info.value.maybe_committed
    with pytest.raises(ERPNextError) as read:
        client.get_list("Item")
    assert read.value.kind is ErrorKind.RETRY and not read.value.maybe_committed


def test_a_dropped_connection_after_commit_may_have_committed(erp: FakeERPNext) -> None:
    client = make_client(erp)
    erp.drop_after_commit(1)
    with pytest.raises(ERPNextError) as info:
        client.insert("Customer", {"customer_name": "Dropped", "offline_id": "c-1"})
    assert info.value.kind is ErrorKind.RETRY and info.value.maybe_committed
    assert erp.site.find("Customer", offline_id="c-1")  # committed all the same


def test_refused_connection_was_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ERPNextClient(f"http://127.0.0.1:{port}", "k", "s", timeout=2)
    with pytest.raises(ERPNextError) as info:
        client.insert("Customer", {"customer_name": "Nobody"})
    assert info.value.kind is ErrorKind.RETRY and not info.value.maybe_committed


def test_missing_custom_field_stops(erp: FakeERPNext, client: ERPNextClient) -> None:
    erp.site.delete("Custom Field", "POS Invoice-offline_id")
    with pytest.raises(ERPNextError) as info:
        client.get_list("POS Invoice", filters=[["offline_id", "in", ["x"]]])
    assert info.value.kind is ErrorKind.STOP
    assert "not permitted in query" in info.value.message


def test_the_secret_never_shows(erp: FakeERPNext, caplog: pytest.LogCaptureFixture) -> None:
    secret = "very-secret-value-123"
    client = ERPNextClient(erp.url, erp.api_key, secret, timeout=2)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ERPNextError) as info:
        client.get_list("Item")
    assert info.value.kind is ErrorKind.STOP and info.value.status == 401
    for text in (str(info.value), repr(info.value), repr(client), caplog.text):
        assert secret not in text


def test_secret_from_file_or_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "erpnext.secret"
    cfg = ERPNextConfig("http://x", "k", secret_file, "Main POS")
    with pytest.raises(ERPNextError, match=r"\[erpnext\] api_secret_file: .* does not exist") as e:
        read_secret(cfg)
    assert e.value.kind is ErrorKind.STOP
    secret_file.write_text("from-file\n")
    with pytest.raises(ERPNextError, match=r"readable by group or others .*chmod 600"):
        read_secret(cfg)  # 0644 from the umask: refused, not used silently
    secret_file.chmod(0o600)
    assert read_secret(cfg) == "from-file"
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "erpnext-secret").write_text("from-systemd")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert read_secret(cfg) == "from-systemd"
    (creds / "erpnext-secret").write_text("")
    with pytest.raises(ERPNextError, match="is empty"):
        read_secret(cfg)

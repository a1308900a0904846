"""USB transfer: sales made with no link, exported to a signed bundle, imported at head office
through the real CLI against the fake ERPNext over HTTP, then the terminal's own sync."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from appliance.counter.checkout import Checkout
from appliance.store import journal
from appliance.store.customers import OfflineCustomer, create_offline_customer
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.models import JournalEntry, OutboxEntry, OutboxState, PosInvoice
from appliance.transfer import bundle as bundles
from appliance.transfer.keys import fingerprint, read_key
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, make_client, make_pusher, return_all, sell, write_config

REPO = Path(__file__).resolve().parents[2]
SYNCED = ("POS Opening Entry", "Customer", "POS Invoice", "POS Closing Entry")


@dataclass
class Site:
    """The terminal (its store and config) and head office (a config, an empty data dir)."""

    db: Path
    terminal_env: dict[str, str]
    office_env: dict[str, str]
    office_data: Path
    stick: Path
    key_file: Path
    keys_dir: Path


def _new_key(path: Path) -> Path:
    path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    return path


@pytest.fixture
def site(db_path: Path, erp: FakeERPNext, tmp_path: Path) -> Site:
    keys_dir = tmp_path / "office-keys"
    keys_dir.mkdir()
    key_file = _new_key(tmp_path / "transfer.key")
    (keys_dir / "DEMO1.key").write_bytes(key_file.read_bytes())
    terminal_cfg = write_config(tmp_path, erp)
    terminal_cfg.write_text(
        terminal_cfg.read_text() + f'\n[transfer]\nkey_file = "{key_file}"\n', encoding="utf-8"
    )
    office = tmp_path / "office"
    office.mkdir()
    office_cfg = write_config(office, erp)
    office_cfg.write_text(
        office_cfg.read_text().replace('id = "DEMO1"', 'id = "HQ"')
        + f'\n[transfer]\nkeys_dir = "{keys_dir}"\n',
        encoding="utf-8",
    )
    stick = tmp_path / "stick"
    stick.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    return Site(
        db=db_path,
        terminal_env={
            **base,
            "APPLIANCE_DATA": str(db_path.parent),
            "APPLIANCE_CONFIG": str(terminal_cfg),
        },
        office_env={
            **base,
            "APPLIANCE_DATA": str(office / "data"),
            "APPLIANCE_CONFIG": str(office_cfg),
        },
        office_data=office / "data",
        stick=stick,
        key_file=key_file,
        keys_dir=keys_dir,
    )


def _cli(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    done = subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    document = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, document, done.stderr


def _new_customer(db: Path, name: str) -> str:
    offline_id = str(uuid.uuid4())
    payload = {"offline_id": offline_id, "customer_name": name, "customer_type": "Individual"}
    write = make_session_factory(create_db_engine(db))
    with unit_of_work(write) as uow:
        create_offline_customer(
            uow.session,
            OfflineCustomer(
                offline_id=offline_id, customer_name=name, created_by=CASHIER, payload=payload
            ),
        )
        uow.commit()
    return offline_id


def _push(erp: FakeERPNext, db: Path) -> int:
    """The agent's push, in process (the link is up): how many documents are now synced."""
    client = make_client(erp)
    try:
        report = make_pusher(client, db).push()
    finally:
        client.close()
    assert not report.quarantined and report.stopped is None
    return report.synced


def _receipt(db: Path, offline_id: str) -> str:
    with make_session_factory(create_db_engine(db), read_only=True)() as session:
        sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == offline_id))
        assert sale is not None
        return sale.receipt_no


def _outbox(db: Path) -> list[OutboxEntry]:
    with make_session_factory(create_db_engine(db), read_only=True)() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _by_offline_id(erp: FakeERPNext) -> Counter[tuple[str, str]]:
    return Counter(
        (doctype, str(doc["offline_id"]))
        for doctype in SYNCED
        for doc in erp.site.all(doctype)
        if doc.get("offline_id")
    )


def _offline_day(checkout: Checkout, site: Site, erp: FakeERPNext) -> dict[str, str]:
    """Online: open the shift, create a customer, push. Then the link goes: sales (one to that
    customer, one to a customer created offline), a return, the close, and a second shift."""
    checkout.open_shift(CASHIER, {"Cash": D(150)})
    known = _new_customer(site.db, "Transfer Known Customer")
    assert _push(erp, site.db) == 2  # the opening entry, the customer
    fresh = _new_customer(site.db, "Transfer Fresh Customer")
    a = sell(checkout, 10, 11, customer=known)
    b = sell(checkout, 12, change=D(20), customer=fresh)
    sell(checkout, 13, 14, 15)
    back = return_all(checkout, _receipt(site.db, a.offline_id))
    checkout.close_shift(CASHIER, {"Cash": D(200)})
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    sell(checkout, 16)
    return {
        "known": known,
        "fresh": fresh,
        "a": a.offline_id,
        "b": b.offline_id,
        "ret": back.offline_id,
    }


def _export(site: Site) -> tuple[Path, dict[str, Any]]:
    code, summary, err = _cli(site.terminal_env, "export", "--to", str(site.stick))
    assert code == 0, err
    assert summary is not None and summary["bundle"]
    return Path(summary["bundle"]), summary


def test_usb_round_trip_lands_each_document_once(
    checkout: Checkout, site: Site, erp: FakeERPNext
) -> None:
    ids = _offline_day(checkout, site, erp)
    requests_before = len(erp.log)

    bundle, summary = _export(site)
    # A customer, 3 sales + 1 return and the closing; the second shift's opening and sale. The
    # first opening entry and the first customer reached ERPNext before: named as references.
    assert summary["counts"] == {
        "POS Opening Entry": 1,
        "Customer": 1,
        "POS Invoice": 5,
        "POS Closing Entry": 1,
    }
    assert summary["documents"] == 8 and summary["references"] == 2 and summary["held"] == 0
    assert len(erp.log) == requests_before  # exporting needs no link
    assert [p.name for p in site.stick.iterdir()] == [bundle.name]  # no .partial left behind
    data = bundle.read_bytes()
    assert summary["bytes"] == len(data)
    assert erp.api_secret.encode() not in data
    assert read_key(site.key_file).hex().encode() not in data
    # Exported is not synced: the entries wait, naming the bundle; the journal says so.
    unsent = [e for e in _outbox(site.db) if e.state is not OutboxState.DONE]
    assert len(unsent) == 8
    assert {e.exported_bundle for e in unsent} == {summary["bundle_id"]}
    with make_session_factory(create_db_engine(site.db), read_only=True)() as session:
        exports = list(
            session.scalars(
                select(JournalEntry).where(JournalEntry.kind == journal.JournalKind.USB_EXPORT)
            )
        )
        assert [e.ref for e in exports] == [summary["bundle_id"]]
        assert journal.verify(session).intact
    code, status, err = _cli(site.terminal_env, "status")
    assert code == 0 and status is not None, err
    assert status["exported"]["unsynced"] == 8 and status["unsynced"] == 8
    assert status["exported"]["last"]["bundle_id"] == summary["bundle_id"]

    # One byte changed anywhere is refused before anything reaches ERPNext.
    tampered = site.stick / "tampered.bundle"
    at = data.index(b'"grand_total":') + len(b'"grand_total":')
    tampered.write_bytes(data[:at] + (b"9" if data[at : at + 1] != b"9" else b"8") + data[at + 1 :])
    code, out, err = _cli(site.office_env, "import", str(tampered))
    assert code == 2 and out is None
    assert err.count("\n") == 1 and "refused, nothing sent" in err and "altered" in err
    truncated = site.stick / "truncated.bundle"
    truncated.write_bytes(data[: len(data) // 2])
    code, _, err = _cli(site.office_env, "import", str(truncated))
    assert code == 2 and "truncated" in err
    assert len(erp.log) == requests_before

    # The good bundle, at head office (its own config and keys, no store of its own).
    code, result, err = _cli(site.office_env, "import", str(bundle))
    assert code == 0, err
    assert result is not None
    assert (result["created"], result["found"], result["quarantined"]) == (8, 0, 0)
    assert result["by_doctype"]["POS Invoice"]["created"] == 5
    assert not result["mismatches"]
    assert not site.office_data.exists()
    landed = _by_offline_id(erp)
    assert set(landed.values()) == {1}
    assert {oid for _, oid in landed} >= {ids["known"], ids["fresh"], ids["a"], ids["ret"]}
    invoices = {d["offline_id"]: d for d in erp.site.all("POS Invoice")}
    with make_session_factory(create_db_engine(site.db), read_only=True)() as session:
        for sale in session.scalars(select(PosInvoice)):
            theirs = invoices[sale.offline_id]
            assert D(str(theirs["grand_total"])) == sale.grand_total
            assert D(str(theirs["net_total"])) == sale.net_total
    customers = {d.get("offline_id"): d["name"] for d in erp.site.all("Customer")}
    assert invoices[ids["b"]]["customer"] == customers[ids["fresh"]] != ids["fresh"]
    assert invoices[ids["a"]]["customer"] == customers[ids["known"]]
    assert invoices[ids["ret"]]["return_against"] == invoices[ids["a"]]["name"]
    (closing,) = erp.site.all("POS Closing Entry")
    assert len(closing["pos_transactions"]) == 4
    assert closing["pos_opening_entry"] == erp.site.all("POS Opening Entry")[0]["name"]

    # Importing it again creates nothing.
    posts = len(erp.posts())
    code, again, err = _cli(site.office_env, "import", str(bundle))
    assert code == 0, err
    assert again is not None and (again["created"], again["found"]) == (0, 8)
    assert len(erp.posts()) == posts

    # The terminal gets its link back: its own push finds every document and marks it synced.
    code, synced, err = _cli(site.terminal_env, "sync", "--once")
    assert code == 0, err
    assert synced is not None
    assert synced["push"]["created"] == 0 and synced["push"]["found"] == 8
    assert {e.state for e in _outbox(site.db)} == {OutboxState.DONE}
    code, status, err = _cli(site.terminal_env, "status")
    assert code == 0 and status is not None and status["exported"]["unsynced"] == 0, err
    assert len(erp.posts()) == posts
    assert _by_offline_id(erp) == landed


def test_a_bundle_signed_with_another_key_is_refused(
    checkout: Checkout, site: Site, erp: FakeERPNext
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    sell(checkout, 20)
    bundle, _ = _export(site)
    other = _new_key(site.stick.parent / "other.key")
    code, out, err = _cli(site.office_env, "import", str(bundle), "--key-file", str(other))
    assert code == 2 and out is None
    assert "signed with another key than the one for terminal DEMO1" in err
    (site.keys_dir / "DEMO1.key").unlink()
    code, _, err = _cli(site.office_env, "import", str(bundle))
    assert code == 2 and "DEMO1.key: transfer key file not found" in err
    assert erp.log == []


def test_transfer_key_writes_a_private_key_and_prints_only_its_fingerprint(
    checkout: Checkout, site: Site, erp: FakeERPNext
) -> None:
    code, out, err = _cli(
        site.terminal_env, "transfer-key", "--terminal", "DEMO1", "--out", str(site.keys_dir)
    )
    assert code == 2 and "DEMO1.key: already exists" in err and out is None
    args = ("transfer-key", "--terminal", "DEMO1", "--out", str(site.key_file), "--replace")
    site.key_file.chmod(0o644)
    code, out, err = _cli(site.terminal_env, *args)
    assert code == 0, err
    key = site.key_file.read_text(encoding="ascii").strip()
    assert len(key) == 64 and int(key, 16) >= 0
    assert site.key_file.stat().st_mode & 0o777 == 0o600
    assert out == {
        "terminal": "DEMO1",
        "key_file": str(site.key_file),
        "key_fingerprint": fingerprint(read_key(site.key_file)),
    }
    assert key not in json.dumps(out) + err
    # The bundle's manifest names the key by the same fingerprint.
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    bundle, _ = _export(site)
    manifest = json.loads(bundle.read_text(encoding="utf-8").splitlines()[0])
    assert manifest["key_fingerprint"] == out["key_fingerprint"]


def test_nothing_to_export_says_so(checkout: Checkout, site: Site, erp: FakeERPNext) -> None:
    code, summary, err = _cli(site.terminal_env, "export", "--to", str(site.stick))
    assert code == 0, err
    assert summary is not None and summary["bundle"] is None and summary["documents"] == 0
    assert "nothing to export" in summary["message"]
    # Once everything is in ERPNext there is nothing to carry either.
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    sell(checkout, 21)
    assert _push(erp, site.db) == 2
    code, summary, err = _cli(site.terminal_env, "export", "--to", str(site.stick))
    assert code == 0 and summary is not None and summary["bundle"] is None, err
    assert list(site.stick.iterdir()) == []


def test_every_cut_of_a_bundle_is_refused(checkout: Checkout, site: Site, erp: FakeERPNext) -> None:
    """What a yanked stick can leave: any prefix of a bundle is refused, none reads as a
    smaller bundle."""
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    sell(checkout, 22, 23)
    bundle, _ = _export(site)
    data = bundle.read_bytes()
    key = read_key(site.key_file)
    assert bundles.decode(data, lambda terminal: key).manifest.documents == 2
    lines = data.splitlines(keepends=True)
    cuts = {len(data) - 1, len(data) - len(lines[-1])} | set(range(0, len(data), 97))
    for cut in sorted(cuts):
        with pytest.raises(bundles.BundleError):
            bundles.decode(data[:cut], lambda terminal: key)


def test_a_refused_document_holds_only_its_dependents(
    checkout: Checkout, site: Site, erp: FakeERPNext
) -> None:
    """ERPNext refuses a customer made offline: the import sends everything else, reports the
    customer with ERPNext's message and its sale as waiting, exits 4; fixed, a re-import ends it."""
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    fresh = _new_customer(site.db, "Transfer Refused Customer")
    sold = sell(checkout, 24, customer=fresh)
    sell(checkout, 25)
    bundle, _ = _export(site)
    erp.reject(fresh, "Customer Group is mandatory")
    code, result, err = _cli(site.office_env, "import", str(bundle))
    assert code == 4 and "2 documents not accepted" in err
    assert result is not None and (result["created"], result["quarantined"]) == (2, 1)
    (refused,) = result["quarantined_documents"]
    assert refused["offline_id"] == fresh and "Customer Group is mandatory" in refused["message"]
    (waiting,) = result["waiting_documents"]
    assert waiting["offline_id"] == sold.offline_id and "waiting for customer" in waiting["message"]
    erp.unreject(fresh)
    code, result, err = _cli(site.office_env, "import", str(bundle))
    assert code == 0, err
    assert result is not None and (result["created"], result["found"]) == (2, 2)
    assert set(_by_offline_id(erp).values()) == {1}

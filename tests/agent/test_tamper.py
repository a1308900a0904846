"""Tampering with the till's books is caught, not only careless edits (issue: someone with write
access to pos.db rewrote the outbox copy of a cash sale as a card sale, and ERPNext received
`Credit Card 186.45`; or set a sale's grand_total to 0.01; `db check` said all was well)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from appliance.agent.push import Pusher
from appliance.counter.checkout import Checkout
from appliance.store.check import check_database
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.models import OutboxState
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, sell
from tests.agent.test_push import _entries


def _problems(db_path: Path) -> set[tuple[str, str | None]]:
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with unit_of_work(factory) as uow:
        return {(p.check, p.ref) for p in check_database(uow.session)}


def test_an_outbox_copy_rewritten_as_a_card_sale_is_not_sent(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, pusher: Pusher
) -> None:
    checkout.open_shift(CASHIER, {"Cash": 0})  # type: ignore[dict-item]
    sale = sell(checkout, 10, 11)
    with sqlite3.connect(db_path) as conn:
        (payload,) = conn.execute(
            "SELECT payload FROM outbox WHERE offline_id = ?", (sale.offline_id,)
        ).fetchone()
        body = json.loads(payload)
        for row in body["payments"]:
            row["mode_of_payment"] = "Credit Card"
        conn.execute(
            "UPDATE outbox SET payload = ? WHERE offline_id = ?",
            (json.dumps(body), sale.offline_id),
        )
    assert ("outbox_payload_fingerprint", sale.offline_id) in _problems(db_path)

    report = pusher.push()
    assert [o.offline_id for o in report.quarantined] == [sale.offline_id]
    assert "differs from the sale as it was journaled" in (report.quarantined[0].message or "")
    assert not [i for i in erp.site.all("POS Invoice") if i["offline_id"] == sale.offline_id]
    (entry,) = [e for e in _entries(db_path) if e.offline_id == sale.offline_id]
    assert entry.state is OutboxState.QUARANTINED


def test_a_sale_total_changed_in_the_store_is_found(checkout: Checkout, db_path: Path) -> None:
    checkout.open_shift(CASHIER, {"Cash": 0})  # type: ignore[dict-item]
    sale = sell(checkout, 12)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE pos_invoices SET grand_total = 0.01, rounded_total = 0.01 WHERE offline_id = ?",
            (sale.offline_id,),
        )
    assert ("sale_totals_journal", sale.offline_id) in _problems(db_path)


def test_a_sale_deleted_and_the_chain_rehashed_is_found(checkout: Checkout, db_path: Path) -> None:
    """An insider deletes a cash sale with its journal entry and re-hashes the chain with our
    own function: `journal verify` sees an intact chain, the high-water mark does not."""
    from appliance.store import watermark

    checkout.open_shift(CASHIER, {"Cash": 0})  # type: ignore[dict-item]
    victim = sell(checkout, 13)
    sell(checkout, 14)
    _rehash_without(db_path, victim.offline_id, fix_mark=False)
    problems = _problems(db_path)
    assert {c for c, _ in problems} == set(), problems  # the store alone looks clean...
    with pytest.raises(watermark.StoreBehindError, match="lost committed work"):
        watermark.check(db_path)  # ...but not against what it had committed


def _rehash_without(db_path: Path, victim: str, *, fix_mark: bool) -> None:
    """The insider's rewrite: a sale and its journal entry gone, the chain re-hashed with our
    own function, and (``fix_mark``) the high-water mark set to match: the till agrees."""
    from appliance.store import jsonutil, watermark
    from appliance.store.journal import GENESIS_HASH, entry_hash

    with sqlite3.connect(db_path) as conn:
        sale_id = conn.execute(
            "SELECT id FROM pos_invoices WHERE offline_id = ?", (victim,)
        ).fetchone()[0]
        for table in ("pos_invoice_items", "pos_invoice_taxes", "pos_invoice_payments"):
            conn.execute(f"DELETE FROM {table} WHERE invoice_id = ?", (sale_id,))
        conn.execute("DELETE FROM pos_invoices WHERE id = ?", (sale_id,))
        (entry_id,) = conn.execute(
            "SELECT id FROM outbox WHERE offline_id = ?", (victim,)
        ).fetchone()
        conn.execute(
            "DELETE FROM outbox_dependencies WHERE entry_id = ? OR depends_on_id = ?",
            (entry_id, entry_id),
        )
        conn.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))
        conn.execute("DELETE FROM journal WHERE ref = ?", (victim,))
        rows = conn.execute("SELECT seq, at, kind, actor, ref, data FROM journal ORDER BY seq")
        prev, new_seq = GENESIS_HASH, 0
        for seq, at, kind, actor, ref, data in rows.fetchall():
            new_seq += 1
            digest = entry_hash(
                prev, seq=new_seq, at=at, kind=kind, actor=actor, ref=ref, data=jsonutil.loads(data)
            )
            conn.execute(
                "UPDATE journal SET seq = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (new_seq, prev, digest, seq),
            )
            prev = digest
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'journal'", (new_seq,))
    if fix_mark:
        watermark.replace(db_path, watermark.state_of(db_path))


def test_a_consistent_rewrite_of_the_till_is_caught_by_erpnexts_anchors(
    checkout: Checkout,
    *,
    db_path: Path,
    erp: FakeERPNext,
    pusher: Pusher,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from appliance.cli import main
    from appliance.store import watermark
    from tests.agent.conftest import write_config

    checkout.open_shift(CASHIER, {"Cash": 0})  # type: ignore[dict-item]
    sales = [sell(checkout, n) for n in (20, 21, 22)]
    assert pusher.push().stopped is None
    anchors = {i["offline_id"]: i["appliance_journal"] for i in erp.site.all("POS Invoice")}
    assert set(anchors) == {s.offline_id for s in sales}  # every synced sale carries its entry
    config = str(write_config(tmp_path, erp))
    verify = ["journal", "verify", "--against-erpnext", "--config", config]
    assert main(verify) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == 3

    _rehash_without(db_path, sales[1].offline_id, fix_mark=True)
    watermark.check(db_path)  # the till agrees with itself now...
    assert main(["journal", "verify"]) == 0
    capsys.readouterr()
    assert main(verify) == 1  # ...but not with what ERPNext was sent
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "rewritten" and report["problems"] == 2
    problems = " ".join(p["problem"] for p in report["first_problems"])
    assert f"sale {sales[1].offline_id} was committed as journal entry" in problems
    assert "the journal was rewritten" in problems

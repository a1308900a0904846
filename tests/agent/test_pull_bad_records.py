"""One bad record never stops the pull: it is skipped and named (report, journal, `status`),
and the rest of its page applies."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appliance.agent.pull import Puller
from appliance.cli import main
from appliance.fakeerp import FakeERPNext
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.journal import JournalKind
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Item, ItemPrice, JournalEntry
from tests.agent.conftest import SMALL, make_client, write_config
from tests.support.conftest import run_cli

# (doctype, name, field changes, the words the skip must carry)
BAD = [
    ("Item Price", "PRICE-000011", {"price_list_rate": "abc"}, "'abc' is not a number"),
    ("Item Price", "PRICE-000012", {"price_list_rate": float("nan")}, "not a finite number"),
    ("Item Price", "PRICE-000013", {"price_list_rate": -4}, "negative"),
    ("Item Price", "PRICE-000014", {"price_list_rate": 10**12}, "10^12"),
    (
        "Item",
        "SKU-000015",
        {"barcodes": [{"barcode": None, "barcode_type": "EAN", "uom": ""}]},
        "'barcode' is empty",
    ),
    ("Item", "SKU-000016", {"item_name": "x" * 20_000}, "longer than"),
    ("Customer", "Hana Cote 00003", {"mobile_no": "9" * 17_000}, "longer than"),
]


@pytest.fixture
def broken(erp: FakeERPNext) -> FakeERPNext:
    for doctype, name, changes, _words in BAD:
        erp.site.touch(doctype, name, **changes)
    return erp


def test_bad_records_are_skipped_and_named(tmp_path: Path, broken: FakeERPNext) -> None:
    db = tmp_path / "pos.db"
    upgrade_to_head(db)
    engine = create_db_engine(db)
    client = make_client(broken)
    puller = Puller(
        client, make_session_factory(engine, read_only=True), make_session_factory(engine)
    )
    report = puller.pull()
    assert report.complete
    skipped = {(s["doctype"], s["name"]): s["reason"] for s in report.skipped}
    for doctype, name, _changes, words in BAD:
        assert words in skipped[(doctype, name)], skipped
    assert len(skipped) == len(BAD)
    assert report.applied["Item"] == SMALL.items - 2
    with make_session_factory(engine, read_only=True)() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == SMALL.items - 2
        assert session.get(Item, "SKU-000017") is not None
        prices = session.scalar(select(func.count()).select_from(ItemPrice))
        assert prices is not None and prices >= SMALL.items - 6
        journal = session.scalars(
            select(JournalEntry).where(JournalEntry.kind == JournalKind.PULL_SKIPPED.value)
        ).all()
        assert {e.ref for e in journal} == {name for _d, name, _c, _w in BAD}
    # Skipped again while unchanged, journaled once; fixed in ERPNext, it comes in.
    assert puller.pull().skipped == []
    broken.site.touch("Item Price", "PRICE-000011", price_list_rate=3.5)
    assert puller.pull().applied == {"Item Price": 1}
    client.close()
    engine.dispose()


def test_status_shows_the_skipped_records(
    db_path: Path,
    broken: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, broken)))
    assert main(["sync", "--once"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["pull"]["skipped"]) == len(BAD)
    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["sync_journal"]["counts"]["pull_skipped"] == len(BAD)
    latest = status["sync_journal"]["latest"][0]
    assert latest["kind"] == "pull_skipped" and latest["reason"]

    out = db_path.parent / "bundle.tar.gz"
    code, _summary, err = run_cli("support-bundle", "--out", str(out), "--since-hours", "1")
    assert code == 0, err
    with tarfile.open(out) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("sync-state.json"))
        handle = tar.extractfile(member)
        assert handle is not None
        sync = json.loads(handle.read())
    skipped = [e for e in sync["sync_journal"]["latest"] if e["kind"] == "pull_skipped"]
    assert {(e["doctype"], e["offline_id"]) for e in skipped} == {(d, n) for d, n, _c, _w in BAD}

"""A first pull of a big catalog is safe to kill and to sell through (issue 21 items 1-3).

Real parts: the fake ERPNext over HTTP on 127.0.0.1 with its stock request-line limit, the pull
in a child process of its own (killed with SIGKILL), a real SQLite file read while it writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from appliance.agent.pull import FIRST_DONE_KEY
from appliance.demo.masters import DemoSize, all_masters
from appliance.store import search_index
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Customer, Item, ItemBarcode, ItemPrice, SyncState
from fakeerp import FakeERPNext

ROOT = Path(__file__).resolve().parents[2]
CATALOG = DemoSize(items=3000, extra_barcodes=600, customers=300)
PAGE_BYTES = 48 * 1024  # ~120 items a page: dozens of pages, a kill lands mid-pull


@pytest.fixture(scope="module")
def erp() -> Iterator[FakeERPNext]:
    with FakeERPNext(all_masters(CATALOG)) as fake:
        yield fake


def _start(erp: FakeERPNext, db: Path) -> subprocess.Popen[str]:
    args = [erp.url, erp.api_key, erp.api_secret, str(db), str(PAGE_BYTES)]
    return subprocess.Popen(
        [sys.executable, "-m", "bench.pull_child", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, object]:
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    report: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return report


def _count(db: Path, model: type) -> int:
    engine = create_db_engine(db)
    with make_session_factory(engine, read_only=True)() as session:
        n = int(session.scalar(select(func.count()).select_from(model)) or 0)
    engine.dispose()
    return n


def _server_counts(erp: FakeERPNext) -> dict[str, int]:
    items = [d for d in erp.site.all("Item") if not d.get("disabled")]
    held = {d["name"] for d in items}
    return {
        "items": len(items),
        "barcodes": sum(len(d.get("barcodes") or []) for d in items),
        "prices": sum(1 for p in erp.site.all("Item Price") if p["item_code"] in held),
        "customers": sum(1 for c in erp.site.all("Customer") if not c.get("disabled")),
    }


def test_a_killed_first_pull_resumes_where_it_stopped(erp: FakeERPNext, tmp_path: Path) -> None:
    db = tmp_path / "pos.db"
    upgrade_to_head(db)
    erp.set_delay(15)  # a server a little slower than loopback: the kill lands mid-Item
    pull = _start(erp, db)
    try:
        deadline = time.monotonic() + 120
        while _count(db, Item) < 600 and time.monotonic() < deadline:
            assert pull.poll() is None, "the pull ended before it could be killed"
            time.sleep(0.05)
    finally:
        pull.send_signal(signal.SIGKILL)
        pull.wait()
        erp.set_delay(0)
    server = _server_counts(erp)
    held = _count(db, Item)
    assert 0 < held < server["items"]
    engine = create_db_engine(db)
    with make_session_factory(engine, read_only=True)() as session:
        assert session.get(SyncState, FIRST_DONE_KEY) is None
        assert search_index.index_deferred(session)  # still deferred: resumed as a first pull
    engine.dispose()

    report = _finish(_start(erp, db))

    assert report["complete"] is True
    applied = report["applied"]
    assert isinstance(applied, dict)
    # Resumed after the last committed page: what was held is not fetched and written again.
    assert applied["Item"] == server["items"] - held
    assert _count(db, Item) == server["items"]
    assert _count(db, ItemBarcode) == server["barcodes"]
    assert _count(db, ItemPrice) == server["prices"]
    assert _count(db, Customer) == server["customers"]
    engine = create_db_engine(db)
    with make_session_factory(engine, read_only=True)() as session:
        assert session.get(SyncState, FIRST_DONE_KEY) is not None
        assert not search_index.index_deferred(session)
        assert search_index.integrity_problems(session) == []
        # The search index holds every item again, those written before the kill included.
        indexed = session.execute(text("SELECT count(*) FROM items_fts")).scalar()
        assert indexed == server["items"]
    engine.dispose()


def test_a_reader_never_sees_half_a_page(erp: FakeERPNext, tmp_path: Path) -> None:
    """What a till reads while a first pull writes is always whole pages: the items the pull
    reports committed, each with all its barcodes, each price with its item."""
    db = tmp_path / "pos.db"
    upgrade_to_head(db)
    barcodes = {d["name"]: len(d.get("barcodes") or []) for d in erp.site.all("Item")}
    engine = create_db_engine(db)
    read = make_session_factory(engine, read_only=True)
    erp.set_delay(5)
    pull = _start(erp, db)
    looks = 0
    try:
        while pull.poll() is None:
            with read() as session, session.begin():
                items = list(session.scalars(select(Item.name)))
                codes = {
                    str(parent): int(n)
                    for parent, n in session.execute(
                        select(ItemBarcode.parent, func.count()).group_by(ItemBarcode.parent)
                    )
                }
                orphans = session.scalar(
                    select(func.count())
                    .select_from(ItemPrice)
                    .where(ItemPrice.item_code.not_in(select(Item.name)))
                )
                progress = session.get(SyncState, "agent.pull_progress")
            applied = json.loads(progress.value)["by_doctype"] if progress else {}
            assert len(items) == applied.get("Item", 0)
            assert all(codes.get(name, 0) == barcodes[name] for name in items)
            assert orphans == 0
            looks += 1
            time.sleep(0.01)
    finally:
        erp.set_delay(0)
        if pull.poll() is None:
            pull.kill()
    engine.dispose()
    assert _finish(pull)["complete"] is True
    assert looks > 5

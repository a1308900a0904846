"""Incremental pull from the fake ERPNext into a real SQLite store."""

from __future__ import annotations

import logging
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import select

from appliance.agent.client import ERPNextClient
from appliance.agent.pull import Puller, PullReport
from appliance.store import search_index
from appliance.store.catalog import SqlCatalog
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Item, ItemBarcode, ItemPrice, Uom
from fakeerp import FakeERPNext
from tests.agent.conftest import SMALL


def _puller(client: ERPNextClient, db_path: Path, page_size: int = 7) -> Puller:
    engine = create_db_engine(db_path)
    return Puller(
        client,
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        page_size=page_size,
    )


def test_full_then_incremental(client: ERPNextClient, db_path: Path, erp: FakeERPNext) -> None:
    puller = _puller(client, db_path)
    first = puller.pull()
    # Every document once, in small pages, though they all share one `modified` stamp.
    assert first.applied["Item"] == SMALL.items
    assert first.applied["Customer"] == SMALL.customers + 1
    assert puller.pull().total == 0  # nothing changed: nothing applied

    erp.site.touch("Item Price", "PRICE-000010", price_list_rate=4.44)
    erp.site.touch(
        "Item",
        "SKU-000011",
        item_name="Renamed thing",
        barcodes=[{"barcode": "2999999999999", "barcode_type": "EAN", "uom": ""}],
    )
    delta = puller.pull()
    assert delta.applied == {"Item Price": 1, "Item": 1}
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        price = session.scalar(select(ItemPrice).where(ItemPrice.name == "PRICE-000010"))
        assert price is not None and price.price_list_rate == D("4.44")
        item = session.get(Item, "SKU-000011")
        assert item is not None and item.item_name == "Renamed thing"
        codes = session.scalars(
            select(ItemBarcode.barcode).where(ItemBarcode.parent == "SKU-000011")
        ).all()
        assert list(codes) == ["2999999999999"]
    assert puller.pull().total == 0


def test_units_come_with_their_whole_number_flag(
    client: ERPNextClient, db_path: Path, erp: FakeERPNext
) -> None:
    puller = _puller(client, db_path)
    puller.pull()
    factory = make_session_factory(create_db_engine(db_path), read_only=True)
    with factory() as session:
        rows = session.execute(select(Uom.name, Uom.must_be_whole_number))
        whole = {name: flag for name, flag in rows}
    assert whole["Nos"] is True and whole["Box"] is True and whole["Kg"] is False
    # A back office that makes kilograms whole (or a piece fractional) is followed.
    erp.site.touch("UOM", "Nos", must_be_whole_number=0)
    assert puller.pull().applied == {"UOM": 1}
    with factory() as session:
        nos = session.get(Uom, "Nos")
        assert nos is not None and nos.must_be_whole_number is False


def test_items_are_searchable_once_pulled_though_the_first_pull_stops_after_them(
    client: ERPNextClient, erp: FakeERPNext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A first pull that stops after the items (stopped, or a later doctype keeps failing)
    leaves the till's name search finding every item it wrote: the deferred index is built
    when the items are in, not only when the whole pull ends."""
    db = tmp_path / "new.db"
    upgrade_to_head(db)
    engine = create_db_engine(db)
    read = make_session_factory(engine, read_only=True)
    puller = Puller(client, read, make_session_factory(engine), page_size=25)

    def stop_after_items(doctype: str, report: PullReport) -> bool:
        return doctype == "Item" or report.applied.get("Item", 0) < SMALL.items

    report = puller.pull(on_page=stop_after_items)
    assert not report.complete and report.applied["Item"] == SMALL.items
    wanted = [
        d for d in erp.site.all("Item") if not d.get("disabled") and not d.get("has_variants")
    ]
    with read() as session:
        catalog = SqlCatalog(session)
        missing = [
            d["name"]
            for d in wanted
            if d["name"] not in {i.item_code for i in catalog.search_items(d["item_name"], 50)}
        ]
        assert search_index.integrity_problems(session) == []
    assert missing == []

    # The pull resumes: the items already indexed are not taken out of the index and built
    # again (the till's search would miss them meanwhile).
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="appliance.agent.pull"):
        assert puller.pull().complete
    assert not [r for r in caplog.records if "search index" in r.getMessage()]
    with read() as session:
        assert not search_index.index_deferred(session)
    engine.dispose()

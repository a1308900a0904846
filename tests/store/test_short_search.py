"""Item search finds at least what ERPNext's own POS finds, short terms included, ranked.

What ERPNext 15's POS item search matches (``point_of_sale.get_items``, read from the public
source, restated here in our words):

1. A term that is exactly an Item Barcode (or a Serial No / Batch) lists that one item.
2. Otherwise it lists the sellable items (enabled, not a template, a sales item) whose name
   (the item code) or item name contains the term: ``LIKE '%term%'`` under MariaDB's
   case-insensitive collation, for a term of any length, one character included. It lists them
   by item code, one page (40) at a time.

``erpnext_pos_finds`` below is that description; the till must find every item it lists.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from appliance.store import search_index
from appliance.store.catalog import SqlCatalog
from appliance.store.db import make_session_factory, unit_of_work
from appliance.store.masters import apply_masters, delete_masters
from tests.store.demo_store import by_name, demo_docs, seeded_engine
from tests.store.demo_store import item_doc as item
from tests.store.factories import migrated_engine

DEMO_ITEMS = by_name(demo_docs(), "Item")
Doc = dict[str, Any]


def sellable(doc: Doc) -> bool:
    return not doc.get("disabled") and not doc.get("has_variants") and doc.get("is_sales_item", 1)


def erpnext_pos_finds(docs: Sequence[Doc], term: str) -> set[str]:
    """The items ERPNext's POS lists for ``term``, over all its pages (see the module doc)."""
    for doc in docs:
        if term in (b["barcode"] for b in doc["barcodes"]):
            return {doc["item_code"]}
    folded = term.casefold()
    return {
        d["item_code"]
        for d in docs
        if sellable(d)
        and (folded in d["item_code"].casefold() or folded in d["item_name"].casefold())
    }


def contains(doc: Doc, term: str) -> bool:
    """Whether the till may list ``doc`` for ``term``: each word typed occurs, in any order."""
    texts = [doc["item_code"], doc["item_name"], *(b["barcode"] for b in doc["barcodes"])]
    folded = [t.casefold() for t in texts]
    return sellable(doc) and all(any(w in t for t in folded) for w in term.casefold().split())


def codes(found: Sequence[Any]) -> list[str]:
    return [i.item_code for i in found]


def loaded(engine: Engine, docs: Sequence[Doc]) -> None:
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        apply_masters(uow.session, docs)
        uow.commit()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    engine = seeded_engine(tmp_path_factory.mktemp("short") / "pos.db")
    with make_session_factory(engine, read_only=True)() as session:
        yield session
    engine.dispose()


@pytest.mark.parametrize("term", ["2L", "2l", "z", "Z", "7", "42", "#1", "k"])
def test_demo_store_short_terms_find_what_erpnext_finds(demo: Session, term: str) -> None:
    docs = list(DEMO_ITEMS.values())
    expected = erpnext_pos_finds(docs, term)
    assert expected, f"the demo catalog has no item for {term!r}: the test proves nothing"
    found = codes(SqlCatalog(demo).search_items(term, len(docs)))
    assert expected <= set(found)
    assert all(contains(DEMO_ITEMS[c], term) for c in found)
    assert len(found) == len(set(found))


def test_demo_till_offers_the_2l_milk_first(demo: Session) -> None:
    """What the sell screen shows for "2L": up to eight items, every one a "... 2L ..." item."""
    milk = [d for d in DEMO_ITEMS.values() if " 2L" in d["item_name"]]
    found = SqlCatalog(demo).search_items("2L", 8)
    assert len(milk) >= 3 and len(found) == min(8, len(milk))
    assert all(" 2L" in i.item_name for i in found)
    names = [i.item_name.casefold() for i in found]
    assert names == sorted(names)


# A synthetic shop whose names hold what cashiers type: sizes, pack counts, short words.
_WORDS = ["Milk", "Cola", "AA", "AAA", "Batteries", "6x330ml", "2L", "12pk", "Tea", "Oat", "Rye"]
_WORDS += ["Ice", "Cream", "Gum", "Xtra", "Jar", "500g", "1kg", "Q10", "Vit", "B12", "9V"]


def synthetic_docs(n: int = 600, seed: int = 21) -> list[Doc]:
    rng = random.Random(seed)
    docs = []
    for k in range(1, n + 1):
        name = " ".join(rng.sample(_WORDS, rng.randint(1, 4)))
        prefix = rng.choice(["SKU", "BEV", "HW", "X"])
        flags = {"disabled": int(rng.random() < 0.05), "has_variants": int(rng.random() < 0.03)}
        docs.append(item(f"{prefix}-{k:04d}", name, f"{690000 + k * 7:08d}", **flags))
    return docs


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, list[Doc]]]:
    engine = migrated_engine(tmp_path_factory.mktemp("synthetic") / "pos.db")
    docs = synthetic_docs()
    loaded(engine, docs)
    with make_session_factory(engine, read_only=True)() as session:
        yield session, docs
    engine.dispose()


def _terms(docs: Sequence[Doc], rng: random.Random) -> list[str]:
    texts = [t for d in docs[:80] for t in (d["item_code"], d["item_name"])]
    cut = []
    for whole in texts:
        size = rng.randint(1, 5)
        start = rng.randint(0, max(0, len(whole) - size))
        cut.append(whole[start : start + size].strip())
    randoms = ["".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(1, 3)))]
    fixed = ["2L", "2l", "AA", "aa", "6x", "6X", "9", "0", "12", "1k", "x", "Q", "v", "-0"]
    return [t for t in dict.fromkeys(cut + randoms * 30 + fixed) if t]


def test_synthetic_catalog_parity_with_erpnext(synthetic: tuple[Session, list[Doc]]) -> None:
    session, docs = synthetic
    by_code = {d["item_code"]: d for d in docs}
    catalog = SqlCatalog(session)
    terms = _terms(docs, random.Random(5))
    assert sum(len(t) <= 2 for t in terms) >= 20
    for term in terms:
        found = codes(catalog.search_items(term, len(docs)))
        missing = erpnext_pos_finds(docs, term) - set(found)
        assert not missing, f"{term!r}: ERPNext's POS lists {sorted(missing)[:5]}, the till not"
        wrong = [c for c in found if not contains(by_code[c], term)]
        assert not wrong, f"{term!r}: the till lists {wrong[:5]}, which do not match"


def test_one_character_and_digits(synthetic: tuple[Session, list[Doc]]) -> None:
    session, docs = synthetic
    catalog = SqlCatalog(session)
    for term in ("Q", "q", "9", "V"):
        assert set(codes(catalog.search_items(term, 1000))) >= erpnext_pos_finds(docs, term)
    # A whole barcode lists its item first, as ERPNext's POS lists it alone.
    barcode = docs[10]["barcodes"][0]["barcode"]
    assert codes(catalog.search_items(barcode, 8))[0] == docs[10]["item_code"]


@pytest.mark.parametrize("term", ["AA", "Zap"])
def test_ranking_barcode_code_prefix_then_name(engine: Engine, term: str) -> None:
    low = term.lower()
    loaded(
        engine,
        [
            item("R-7", f"B{low}d", "701"),  # inside a word of the name
            item("R-6", f"Alkaline {term}", "601"),  # a word starts with it
            item("R-5", f"Batteries {term} 4pk", "501"),  # a word starts with it
            item("R-4", f"{low} batteries", "401"),  # the name starts with it
            item("R-3", "Pencil", f"{term}123"),  # a barcode starts with it
            item(f"{term}-9", "Eraser", "301"),  # the code starts with it
            item(term, "Ruler", "201"),  # the code itself
            item("R-8", "Unrelated", "801"),
            item("R-9", f"Disabled {term}", "901", disabled=1),
        ],
    )
    factory = make_session_factory(engine)
    with factory() as session:
        found = codes(SqlCatalog(session).search_items(term, 20))
    assert found == [term, f"{term}-9", "R-3", "R-4", "R-6", "R-5", "R-7"]
    # A whole barcode is a scan: its item comes first, before the code, and as ERPNext's POS
    # then lists that item alone, the till skips the "anywhere" search (the index lookups).
    loaded(engine, [item("R-1", "Glue", term)])
    with factory() as session:
        found = codes(SqlCatalog(session).search_items(term, 20))
    assert found == ["R-1", term, f"{term}-9", "R-3", "R-4"]


def test_short_index_follows_renames_deletes_and_rebuilds(tmp_path: Path) -> None:
    engine = seeded_engine(tmp_path / "pos.db")
    renamed = DEMO_ITEMS["SKU-000007"] | {"item_name": "Zanzibar Qz"}
    loaded(engine, [renamed])
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        delete_masters(uow.session, "Item", ["SKU-000008"])
        uow.commit()
    with unit_of_work(factory) as uow:
        catalog = SqlCatalog(uow.session)
        assert codes(catalog.search_items("qz", 5)) == ["SKU-000007"]
        old = DEMO_ITEMS["SKU-000008"]["item_name"]
        assert "SKU-000008" not in codes(catalog.search_items(old[:2], 1000))
        assert search_index.integrity_problems(uow.session) == []
        # Whatever renumbers items' rowids (a VACUUM) leaves it stale: the check says so and
        # rebuild mends it, as for the other indexes.
        for trigger in ("items_short_fts_bu", "items_short_fts_au", "items_fts_au"):
            uow.session.execute(text(f"DROP TRIGGER {trigger}"))
        uow.session.execute(text("UPDATE items SET rowid = rowid + 1000000"))
        assert any("items_short_fts" in p for p in search_index.integrity_problems(uow.session))
        search_index.rebuild(uow.session)
        assert search_index.integrity_problems(uow.session) == []
        assert codes(SqlCatalog(uow.session).search_items("qz", 5)) == ["SKU-000007"]
        uow.rollback()
    engine.dispose()


def test_the_longest_code_and_name_erpnext_allows_are_indexed_to_the_end(engine: Engine) -> None:
    code, name = "C" * 138 + "Q7", "N" * 137 + " Zy"  # Data fields: 140 characters each
    loaded(engine, [item(code, name, "1"), item("OTHER", "Plain", "2")])
    with make_session_factory(engine)() as session:
        catalog = SqlCatalog(session)
        assert codes(catalog.search_items("q7", 5)) == [code]
        assert codes(catalog.search_items("zy", 5)) == [code]
        assert codes(catalog.search_items("y", 5)) == [code]

"""The store's own budgets: seeding a full catalog, chunk apply time, item and customer search.

    .venv/bin/python -m bench.store_bench [--items 100000] [--keep DIR]

Builds the demo catalog (100,000 items, 150,000 barcodes, 20,000 customers by default) through
``seed_demo`` (the same ``apply_masters`` path a pull takes, 500 documents per transaction), then
times a re-apply of item chunks (how long a sale commit can wait behind the agent), lookups and
search as you type. Prints JSON; asserts nothing (budgets: ../shared/DESIGN.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from appliance.demo.masters import DemoSize, all_masters
from appliance.store.catalog import SqlCatalog
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.masters import apply_masters, seed_demo
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Customer, Item, ItemBarcode


def stats_ms(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(statistics.fmean(ordered) * 1000, 2),
    }


def timed(samples: list[float], action: Callable[[str], Any], arg: str) -> Any:
    start = time.perf_counter()
    out = action(arg)
    samples.append(time.perf_counter() - start)
    return out


def typed_prefixes(words: Sequence[str]) -> list[str]:
    """What a cashier types, keystroke by keystroke, from 3 characters on."""
    return [w[:n] for w in words for n in range(3, len(w) + 1)]


def _changed(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["doctype"] == "Item Price":
        return doc | {"price_list_rate": doc["price_list_rate"] + 0.1}
    barcodes = [b | {"barcode": "9" + b["barcode"]} for b in doc["barcodes"]]
    return doc | {"item_name": doc["item_name"] + " New", "barcodes": barcodes}


def run(db: Path, size: DemoSize) -> dict[str, Any]:
    upgrade_to_head(db)
    engine = create_db_engine(db)
    writes = make_session_factory(engine)
    results: dict[str, Any] = {"size": size.__dict__}

    began: list[float] = []
    held: list[float] = []
    event.listen(engine, "begin", lambda conn: began.append(time.perf_counter()))
    # "commit" fires just before COMMIT: the lock is held this long plus the commit's fsync.
    event.listen(engine, "commit", lambda conn: held.append(time.perf_counter() - began[-1]))
    start = time.perf_counter()
    stats = seed_demo(writes, size)
    results["seed_s"] = round(time.perf_counter() - start, 1)
    results["seed_500_docs_write_lock_before_commit"] = stats_ms(held)
    results["seeded"] = stats.as_dict()

    start = time.perf_counter()
    seed_demo(writes, size)
    results["reseed_unchanged_s"] = round(time.perf_counter() - start, 1)

    # A pull re-applying items and prices: each 500-document chunk holds the write lock from
    # BEGIN to COMMIT. Unchanged documents first (a full reconcile), then changed ones (names,
    # prices and barcodes all different: the worst case for the indexes).
    def chunks(change: bool) -> Any:
        docs = (d for d in all_masters(size) if d["doctype"] in ("Item", "Item Price"))
        if change:
            docs = (_changed(d) for d in docs)
        return itertools.islice(iter(lambda: list(itertools.islice(docs, 500)), []), 40)

    for label, change in (("apply_500_unchanged_docs", False), ("apply_500_changed_docs", True)):
        chunk_times: list[float] = []
        lock_times: list[float] = []
        for chunk in chunks(change):
            start = time.perf_counter()
            with unit_of_work(writes) as uow:
                apply_masters(uow.session, chunk)
                uow.commit()
            end = time.perf_counter()
            chunk_times.append(end - start)
            lock_times.append(end - began[-1])  # BEGIN IMMEDIATE to COMMIT: what a sale waits
        results[label] = stats_ms(chunk_times)
        results[label + "_write_lock"] = stats_ms(lock_times)

    rng = random.Random(42)
    reads = make_session_factory(engine, read_only=True)
    session = reads()
    catalog = SqlCatalog(session)
    names = list(session.scalars(select(Item.item_name)))
    codes = list(session.scalars(select(Item.item_code)))
    barcodes = list(session.scalars(select(ItemBarcode.barcode)))
    customers = list(session.scalars(select(Customer.customer_name)))
    phones = [p for p in session.scalars(select(Customer.mobile_no)) if p]
    session.rollback()

    lookups: list[float] = []
    for code in rng.sample(barcodes, 2000):
        timed(lookups, catalog.item_by_barcode, code)
        session.rollback()
    results["item_by_barcode"] = stats_ms(lookups)

    def search(queries: Sequence[str], fn: Callable[[str], Any]) -> dict[str, float]:
        samples: list[float] = []
        for q in queries:
            timed(samples, fn, q)
            session.rollback()
        return stats_ms(samples)

    words = [w for n in rng.sample(names, 80) for w in n.split()[:2]]
    results["item_search_words_as_typed"] = search(
        typed_prefixes(words), lambda q: catalog.search_items(q, 20)
    )
    results["item_search_codes"] = search(
        [c[: rng.randint(3, len(c))] for c in rng.sample(codes, 200)],
        lambda q: catalog.search_items(q, 20),
    )
    results["item_search_barcode_parts"] = search(
        [b[rng.randint(0, 4) : rng.randint(7, 13)] for b in rng.sample(barcodes, 200)],
        lambda q: catalog.search_items(q, 20),
    )
    results["item_search_short"] = search(
        ["a", "o", "s", "sk", "or", "mi", "1", "06"], lambda q: catalog.search_items(q, 20)
    )
    cwords = [w for n in rng.sample(customers, 80) for w in n.split()[:2]]
    results["customer_search_as_typed"] = search(
        typed_prefixes(cwords), lambda q: catalog.search_customers(q, 20)
    )
    results["customer_search_phone_parts"] = search(
        [p[-rng.randint(4, 10) :] for p in rng.sample(phones, 200)],
        lambda q: catalog.search_customers(q, 20),
    )
    session.close()
    engine.dispose()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--extra-barcodes", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="build the database in this directory")
    args = parser.parse_args(argv)
    size = DemoSize(items=args.items, extra_barcodes=args.extra_barcodes, customers=args.customers)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = run(args.keep / "pos.db", size)
    else:
        with tempfile.TemporaryDirectory(prefix="appliance-store-bench-") as tmp:
            results = run(Path(tmp) / "pos.db", size)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

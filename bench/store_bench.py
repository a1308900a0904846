"""The store's own budgets: seeding a full catalog, chunk apply time, item and customer search.

    .venv/bin/python -m bench.store_bench [--items 100000] [--keep DIR]
    .venv/bin/python -m bench.store_bench --search-sizes 100000 250000 [--cache DIR]

Builds the demo catalog (100,000 items, 150,000 barcodes, 20,000 customers by default) through
``seed_demo`` (the same ``apply_masters`` path a pull takes, 500 documents per transaction), then
times a re-apply of item chunks (how long a sale commit can wait behind the agent), lookups and
search as you type. Prints JSON; asserts nothing (budgets: ../shared/DESIGN.md).

``--search-sizes`` times only item search, over the cashier's term mix (``search_mix``: words
typed from the first character, the short terms of a shop counter such as "2L", "AA", "6x",
codes, whole and partial barcodes) at each catalog size. Those stores are built once and kept in
the cache directory (default ~/.cache/appliance-bench), named by size and schema revision.
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
from appliance.demo.seed import seed_demo
from appliance.store.catalog import SqlCatalog
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.migrate import head_revision, upgrade_to_head
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


# What cashiers type that is one or two characters long: sizes, packs, batteries, a digit. Some
# match thousands of items, some a few, some none (each is a whole lookup either way).
SHORT_TERMS = ["2L", "AA", "6x", "7", "12", "x", "k", "mi", "ml", "0", "#1", "qz", "9V", "Z"]


def search_mix(names: Sequence[str], codes: Sequence[str], barcodes: Sequence[str]) -> list[str]:
    """The term mix the search figures are measured on (same store, same terms)."""
    rng = random.Random(7)
    words = [w for n in rng.sample(list(names), 25) for w in n.split()[:2]][:25]
    typed = [w[:n] for w in words for n in range(1, len(w) + 1)]
    code_parts = [c[: rng.randint(1, len(c))] for c in rng.sample(list(codes), 25)]
    whole = rng.sample(list(barcodes), 25)
    parts = [b[rng.randint(0, 4) : rng.randint(5, 13)] for b in rng.sample(list(barcodes), 25)]
    short = SHORT_TERMS + [t.lower() for t in SHORT_TERMS if t.lower() != t]
    return typed + code_parts + whole + parts + short


def _search_figures(catalog: SqlCatalog, session: Any, terms: Sequence[str]) -> dict[str, Any]:
    """Wall-clock and CPU p95 of ``search_items(term, 20)``, all terms and short ones alone.

    CPU time (``time.process_time``: SQLite runs in this process) is what the search costs
    whatever else the machine runs; wall time is what the cashier waits on this machine now.
    """
    for term in terms:  # warm the page cache (a till that has been selling has it warm) ...
        catalog.search_items(term, 20)
        session.rollback()
    catalog.refresh()  # ... but not the catalog's own item cache
    wall: dict[str, list[float]] = {"all": [], "short": []}
    cpu: dict[str, list[float]] = {"all": [], "short": []}
    for term in terms:
        start, start_cpu = time.perf_counter(), time.process_time()
        catalog.search_items(term, 20)
        spent, spent_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        session.rollback()
        for kind in ("all", "short") if len(term) <= 2 else ("all",):
            wall[kind].append(spent)
            cpu[kind].append(spent_cpu)
    return {
        **{f"item_search_mix_{k}": stats_ms(v) for k, v in wall.items()},
        **{f"item_search_mix_{k}_cpu": stats_ms(v) for k, v in cpu.items()},
    }


def search_at_size(db: Path, items: int) -> dict[str, Any]:
    """Item search over ``search_mix`` on a demo store of ``items`` items (built if missing)."""
    fresh = not db.exists()
    upgrade_to_head(db)
    engine = create_db_engine(db)
    started = time.perf_counter()
    if fresh:
        size = DemoSize(items=items, extra_barcodes=items // 2, customers=1_000)
        seed_demo(make_session_factory(engine), size)
    built = round(time.perf_counter() - started, 1)
    session = make_session_factory(engine, read_only=True)()
    terms = search_mix(
        list(session.scalars(select(Item.item_name))),
        list(session.scalars(select(Item.item_code))),
        list(session.scalars(select(ItemBarcode.barcode))),
    )
    session.rollback()
    figures = _search_figures(SqlCatalog(session), session, terms)
    session.close()
    engine.dispose()
    return {"items": items, "build_s": built if fresh else "cached", **figures}


def search_sizes(sizes: Sequence[int], cache: Path) -> dict[str, Any]:
    cache.mkdir(parents=True, exist_ok=True)
    head = head_revision()
    return {str(n): search_at_size(cache / f"store-{n}-{head}.db", n) for n in sizes}


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
    results |= _search_figures(catalog, session, search_mix(names, codes, barcodes))
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
    parser.add_argument(
        "--search-sizes", type=int, nargs="+", help="only time item search at these sizes"
    )
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "appliance-bench")
    args = parser.parse_args(argv)
    if args.search_sizes:
        print(json.dumps(search_sizes(args.search_sizes, args.cache), indent=1))
        return 0
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

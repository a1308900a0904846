"""`make bench`: the counter's speed budgets (../shared/DESIGN.md) on a full-size catalog.

Builds a 100,000-item / 150,000-barcode / 20,000-customer store in a temporary directory and
prints p50/p95/p99 for the paths a cashier waits on. Figures are printed, not asserted: the
budgets are judged by people reading them, on the machine they care about.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from appliance.config import load_config
from appliance.counter.checkout import Checkout, CounterSetup
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import DemoSize, all_masters
from appliance.demo.seed import seed_demo
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Customer, Item, ItemBarcode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.journal_bench import print_journal_table, run_journal_bench
from bench.tui_bench import print_tui_table, run_tui_bench

T = TypeVar("T")

BUDGETS_MS = {
    "scan_to_line_engine": ("p99", 5.0),
    "cart_200_lines_recompute": ("max", 20.0),
    "item_search": ("p95", 30.0),
    "customer_search": ("p95", 30.0),
    "sale_commit": ("p99", 15.0),
    "sale_commit_during_pull": ("p99", 50.0),
}


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


def timed(action: Callable[[], Any]) -> float:
    return timed_call(action)[0]


def timed_call(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def checkout_for(db: Path) -> Checkout:
    engine = create_db_engine(db)
    cfg = load_config(DEMO_CONFIG)
    setup = CounterSetup(terminal_id="BENCH", pos_profile=cfg.pos_profile, scan=cfg.scan)
    return Checkout(
        make_session_factory(engine, read_only=True), make_session_factory(engine), setup
    )


def bench_scan(checkout: Checkout, barcodes: list[str], rng: random.Random) -> dict[str, float]:
    samples = []
    cart = checkout.new_cart()
    for n in range(2000):
        if n % 8 == 0:
            cart = checkout.new_cart()
        code = rng.choice(barcodes)
        ms, cart = timed_call(lambda c=cart, b=code: checkout.read(lambda till: till.scan(c, b)))
        samples.append(ms)
    return percentiles(samples)


def bench_big_cart(checkout: Checkout, barcodes: list[str], rng: random.Random) -> dict[str, float]:
    cart = checkout.new_cart()
    for code in rng.sample(barcodes, 200):
        cart = checkout.read(lambda till, c=cart, b=code: till.scan(c, b))
    lines = len(cart.lines)
    samples = [timed(lambda: carts.recompute(cart)) for _ in range(30)]
    return {**percentiles(samples), "lines": lines}


def bench_search(search: Callable[[str], object], words: list[str]) -> dict[str, float]:
    samples = []
    for word in words:
        for end in range(1, min(len(word), 7) + 1):  # as the cashier types
            samples.append(timed(lambda t=word[:end]: search(t)))
    return percentiles(samples)


def bench_commits(
    checkout: Checkout, barcodes: list[str], rng: random.Random, n: int
) -> dict[str, float]:
    samples = []
    for _ in range(n):
        cart = checkout.new_cart()
        for code in rng.sample(barcodes, rng.choice((1, 2, 3, 5, 8))):
            cart = checkout.read(lambda till, c=cart, b=code: till.scan(c, b))
        cart = carts.add_payment(cart, PaymentLine("Credit Card", cart.amount_due, type="Bank"))
        samples.append(timed(lambda c=cart: checkout.commit(c, "ana@example.com")))
    return percentiles(samples)


def _pull_worker(db: str, size: DemoSize, stop_after: float) -> None:
    """Stands in for the agent: re-applies the whole catalog in 500-document transactions."""
    engine = create_db_engine(Path(db))
    factory = make_session_factory(engine)
    deadline = time.monotonic() + stop_after
    chunk: list[dict[str, Any]] = []
    for doc in all_masters(size):
        chunk.append(doc)
        if len(chunk) == 500:
            with unit_of_work(factory) as uow:
                apply_masters(uow.session, chunk)
                uow.commit()
            chunk = []
            if time.monotonic() > deadline:
                return


def build_store(directory: Path, *, items: int, customers: int, rng: random.Random) -> Path:
    """A migrated, seeded store in ``directory`` with Ana's shift open and 300 sales committed."""
    db = directory / "pos.db"
    os.environ["APPLIANCE_DATA"] = str(directory)
    upgrade_to_head(db)
    size = DemoSize(items=items, extra_barcodes=items // 2, customers=customers)
    seed_demo(make_session_factory(create_db_engine(db)), size)
    checkout = checkout_for(db)
    with checkout.reading() as session:
        barcodes = list(session.scalars(_SHELF_BARCODES))
    checkout.open_shift("ana@example.com", {"Cash": Decimal(100)})
    bench_commits(checkout, barcodes, rng, 300)
    checkout.close()
    return db


_SHELF_BARCODES = (
    select(ItemBarcode.barcode)
    .join(Item, Item.name == ItemBarcode.parent)
    .where(Item.is_weighed.is_(False))
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--extra-barcodes", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument(
        "--journal-sales",
        type=int,
        default=200_000,
        help="sales the receipt journal bench adds before searching (0: skip it)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--agent-invoices",
        type=int,
        default=2_000,
        help="invoices the agent bench pushes (0: skip the agent bench)",
    )
    args = parser.parse_args(argv)
    size = DemoSize(items=args.items, extra_barcodes=args.extra_barcodes, customers=args.customers)
    rng = random.Random(42)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="appliance-bench-") as tmp:
        db = Path(tmp) / "pos.db"
        os.environ["APPLIANCE_DATA"] = tmp
        upgrade_to_head(db)
        engine = create_db_engine(db)
        started = time.perf_counter()
        stats = seed_demo(make_session_factory(engine), size)
        results["catalog_build_s"] = round(time.perf_counter() - started, 1)
        results["catalog"] = {
            "items": size.items,
            "barcodes": getattr(stats, "barcodes", None),
            "customers": size.customers,
        }
        print(f"catalog built in {results['catalog_build_s']} s: {results['catalog']}", flush=True)

        checkout = checkout_for(db)
        with checkout.reading() as session:
            barcodes = list(session.scalars(_SHELF_BARCODES))
            names = list(session.scalars(select(Item.item_name).limit(5000)))
            customers = list(session.scalars(select(Customer.customer_name).limit(5000)))
        words = [w for n in rng.sample(names, 60) for w in n.split()[1:2]]
        checkout.open_shift("ana@example.com", {"Cash": Decimal(100)})

        results["scan_to_line_engine"] = bench_scan(checkout, barcodes, rng)
        results["cart_200_lines_recompute"] = bench_big_cart(checkout, barcodes, rng)
        results["item_search"] = bench_search(
            lambda t: checkout.read(lambda till: till.catalog.search_items(t, 20)), words
        )
        results["customer_search"] = bench_search(
            lambda t: checkout.read(lambda till: checkout.catalog.search_customers(t, 20)),
            [c.split()[1] for c in rng.sample(customers, 60)],
        )
        results["sale_commit"] = bench_commits(checkout, barcodes, rng, args.commits)

        pull = multiprocessing.get_context("spawn").Process(
            target=_pull_worker, args=(str(db), size, 30.0)
        )
        pull.start()
        time.sleep(1.0)
        results["sale_commit_during_pull"] = bench_commits(checkout, barcodes, rng, 300)
        pull.join()
        checkout.close()
        results["tui"] = run_tui_bench(db)
        if args.journal_sales:
            results["journal"] = run_journal_bench(db, args.journal_sales, rng)

    print()
    print(f"{'path':32} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   budget")
    for key, (stat, budget) in BUDGETS_MS.items():
        r = results[key]
        verdict = "ok" if r[stat] <= budget else "OVER"
        print(
            f"{key:32} {r['p50']:8.2f} {r['p95']:8.2f} {r['p99']:8.2f} {r['max']:8.2f}   "
            f"{stat} <= {budget} ms: {verdict}"
        )
    print(f"{'catalog build (s)':32} {results['catalog_build_s']:8}")
    print_tui_table(results["tui"])
    if "journal" in results:
        print_journal_table(results["journal"])
    if args.agent_invoices:
        # Imported here: bench.agent_bench imports this module.
        from bench.agent_bench import (  # noqa: PLC0415
            print_agent_table,
            run_agent_bench,
            sizes_from_env,
        )

        # The pull at 100,000 items; BENCH_PULL_SIZES=100000,250000 adds 250,000 (minutes more).
        results["agent"] = run_agent_bench(sizes_from_env(), invoices=args.agent_invoices)
        print_agent_table(results["agent"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

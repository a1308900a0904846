"""The sync agent's throughput against the fake ERPNext over real HTTP on 127.0.0.1.

- full pull of a big catalog into an empty store (time, items/s), then a delta of changed items;
- pushing many invoices (time, invoices/s);
- sale-commit latency while a full pull runs in another process (the agent is its own process
  on the appliance: a thread here would measure the GIL, not SQLite's write lock).

The fake is Python serving from memory and re-filtering its lists on every request; its share
of each figure is our test rig's cost, not ERPNext's (a real server answers a filtered, indexed
page in milliseconds but adds network latency). Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.agent.client import ERPNextClient
from appliance.agent.pull import Puller
from appliance.agent.push import Pusher
from appliance.demo.masters import POS_PROFILE, DemoSize, all_masters
from appliance.demo.seed import seed_demo
from appliance.fakeerp import FakeERPNext
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Item, ItemBarcode
from bench.run import bench_commits, checkout_for, percentiles

SMALL = DemoSize(items=500, extra_barcodes=100, customers=50)


def _client(erp: FakeERPNext) -> ERPNextClient:
    return ERPNextClient(erp.url, erp.api_key, erp.api_secret, timeout=120)


def _puller(client: ERPNextClient, db: Path, page_size: int) -> Puller:
    engine = create_db_engine(db)
    return Puller(
        client,
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        page_size=page_size,
        pos_profile=POS_PROFILE,
    )


def bench_pull(size: DemoSize, tmp: Path, page_size: int, delta: int) -> dict[str, Any]:
    db = tmp / "pull.db"
    upgrade_to_head(db)
    with FakeERPNext(all_masters(size)) as erp:
        client = _client(erp)
        puller = _puller(client, db, page_size)
        started = time.perf_counter()
        report = puller.pull()
        full_s = time.perf_counter() - started
        items = report.applied.get("Item", 0)
        names = sorted(d["name"] for d in erp.site.all("Item"))
        for name in random.Random(3).sample(names, min(delta, len(names))):
            erp.site.touch("Item", name, item_name=f"Changed {name}")
        started = time.perf_counter()
        changed = puller.pull()
        delta_s = time.perf_counter() - started
        requests = len(erp.log)
        client.close()
    return {
        "full_pull_s": round(full_s, 1),
        "full_pull_documents": report.total,
        "full_pull_items": items,
        "items_per_s": round(items / full_s),
        "documents_per_s": round(report.total / full_s),
        "delta_items": changed.applied.get("Item", 0),
        "delta_pull_s": round(delta_s, 2),
        "http_requests": requests,
        "page_size": page_size,
    }


def _seeded(db: Path) -> None:
    upgrade_to_head(db)
    seed_demo(make_session_factory(create_db_engine(db)), SMALL)


def _barcodes(db: Path) -> list[str]:
    engine = create_db_engine(db)
    with make_session_factory(engine, read_only=True)() as session:
        codes = list(
            session.scalars(
                select(ItemBarcode.barcode)
                .join(Item, Item.name == ItemBarcode.parent)
                .where(Item.is_weighed.is_(False))
            )
        )
    engine.dispose()
    return codes


def bench_push(tmp: Path, invoices: int) -> dict[str, Any]:
    db = tmp / "push.db"
    _seeded(db)
    checkout = checkout_for(db)
    rng = random.Random(5)
    codes = _barcodes(db)
    checkout.open_shift("ana@example.com", {"Cash": Decimal(0)})
    started = time.perf_counter()
    for _ in range(invoices):
        cart = checkout.new_cart()
        for code in rng.sample(codes, rng.choice((1, 2, 3))):
            cart = checkout.read(lambda till, c=cart, b=code: till.scan(c, b))
        cart = carts.add_payment(cart, PaymentLine("Credit Card", cart.amount_due, type="Bank"))
        checkout.commit(cart, "ana@example.com")
    sell_s = time.perf_counter() - started
    checkout.close()
    # Stock is not what is measured: the fake's per-item stock check must not refuse.
    with FakeERPNext(all_masters(SMALL), default_stock=10.0**9) as erp:
        client = _client(erp)
        engine = create_db_engine(db)
        pusher = Pusher(
            client,
            make_session_factory(engine, read_only=True),
            make_session_factory(engine),
            batch_size=100,
        )
        started = time.perf_counter()
        created = 0
        while True:
            report = pusher.push()
            created += len(report.created)
            if not report.created and not report.found:
                break
        push_s = time.perf_counter() - started
        client.close()
        engine.dispose()
    return {
        "invoices": invoices,
        "created": created,  # the opening entry included
        "push_s": round(push_s, 1),
        "invoices_per_s": round(invoices / push_s, 1),
        "committing_them_s": round(sell_s, 1),
    }


def _pull_process(size: DemoSize, db: str, page_size: int, done: Any) -> None:
    """The agent's side: a fake ERPNext and a full pull into ``db``, in this process."""
    with FakeERPNext(all_masters(size)) as erp:
        client = _client(erp)
        started = time.perf_counter()
        _puller(client, Path(db), page_size).pull()
        done.put(time.perf_counter() - started)
        client.close()


def bench_commit_during_pull(
    size: DemoSize, tmp: Path, page_size: int, commits: int
) -> dict[str, Any]:
    db = tmp / "counter.db"
    _seeded(db)
    checkout = checkout_for(db)
    codes = _barcodes(db)
    rng = random.Random(9)
    checkout.open_shift("ana@example.com", {"Cash": Decimal(0)})
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Queue()
    pull = ctx.Process(target=_pull_process, args=(size, str(db), page_size, done))
    pull.start()
    time.sleep(3.0)  # the fake is loading; let the pull reach the items
    latency = bench_commits(checkout, codes, rng, commits)
    pull.join()
    checkout.close()
    return {"sale_commit_during_pull": latency, "pull_s": round(done.get(), 1)}


def run_agent_bench(
    size: DemoSize,
    *,
    page_size: int = 1000,
    delta: int = 1000,
    invoices: int = 10_000,
    commits: int = 300,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="appliance-agent-bench-") as tmp_:
        tmp = Path(tmp_)
        results: dict[str, Any] = {"pull": bench_pull(size, tmp, page_size, delta)}
        print(f"pull: {results['pull']}", flush=True)
        results["push"] = bench_push(tmp, invoices)
        print(f"push: {results['push']}", flush=True)
        results.update(bench_commit_during_pull(size, tmp, page_size, commits))
    return results


def print_agent_table(results: dict[str, Any]) -> None:
    p, q = results["pull"], results["push"]
    print()
    print("sync agent against the fake ERPNext (HTTP on 127.0.0.1; the fake's cost included)")
    print(
        f"  full pull: {p['full_pull_items']} items ({p['full_pull_documents']} documents) in "
        f"{p['full_pull_s']} s = {p['items_per_s']} items/s, {p['http_requests']} requests"
    )
    print(f"  delta pull: {p['delta_items']} changed items in {p['delta_pull_s']} s")
    print(f"  push: {q['invoices']} invoices in {q['push_s']} s = {q['invoices_per_s']}/s")
    c = results["sale_commit_during_pull"]
    print(
        f"  sale commit during a full pull ({results['pull_s']} s): p50 {c['p50']} ms, "
        f"p99 {c['p99']} ms, max {c['max']} ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--extra-barcodes", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--delta", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args(argv)
    size = DemoSize(items=args.items, extra_barcodes=args.extra_barcodes, customers=args.customers)
    results = run_agent_bench(
        size,
        page_size=args.page_size,
        delta=args.delta,
        invoices=args.invoices,
        commits=args.commits,
    )
    print(json.dumps(results, indent=1))
    print_agent_table(results)
    return 0


__all__ = ["percentiles", "print_agent_table", "run_agent_bench"]

if __name__ == "__main__":
    raise SystemExit(main())

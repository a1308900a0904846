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
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.agent.client import ERPNextClient, Inserted
from appliance.agent.push import Pusher
from appliance.demo.masters import DemoSize, all_masters
from appliance.demo.seed import seed_demo
from appliance.sales import cart as carts
from appliance.sales.cart import CartError
from appliance.sales.model import PaymentLine
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Item, ItemBarcode, ItemPrice
from bench.run import bench_commits, bench_search, checkout_for, percentiles
from fakeerp import FakeERPNext

SMALL = DemoSize(items=500, extra_barcodes=100, customers=50)
# 250,000 items take several minutes on a busy 2-core machine (a first pull, a plain download
# and a second pull for scan-to-line): opt in with BENCH_PULL_SIZES=100000,250000 or --sizes.
DEFAULT_SIZES = (100_000,)


class FakeProcess:
    """The fake ERPNext in its own process, as a real server is: its Python does not share the
    agent's GIL, and the agent's peak RSS is the agent's alone."""

    def __init__(self, size: DemoSize, **options: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pipe, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve_fake, args=(size, options, child), daemon=True)
        self._process.start()
        self.url, self.api_key, self.api_secret = self._pipe.recv()

    def call(self, command: str, arg: Any = None) -> Any:
        self._pipe.send((command, arg))
        return self._pipe.recv()

    def client(self) -> ERPNextClient:
        return ERPNextClient(self.url, self.api_key, self.api_secret, timeout=300)

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pipe.send(("stop", None))
        self._process.join(timeout=30)


def _serve_fake(size: DemoSize, options: dict[str, Any], pipe: Any) -> None:
    erp = FakeERPNext(all_masters(size), **options).start()
    pipe.send((erp.url, erp.api_key, erp.api_secret))
    while True:
        command, arg = pipe.recv()
        if command == "stop":
            break
        if command == "prices":  # change ``arg`` prices as someone in ERPNext would
            names = sorted(d["name"] for d in erp.site.all("Item Price"))
            for name in random.Random(3).sample(names, min(arg, len(names))):
                rate = erp.site.get("Item Price", name)["price_list_rate"]
                erp.site.touch("Item Price", name, price_list_rate=round(rate * 1.1 + 0.01, 2))
            pipe.send(arg)
        elif command == "requests":
            pipe.send(len(erp.log))
        elif command == "counts":  # what a first pull must hold: the enabled items ...
            pipe.send({d: len(erp.site.all(d)) for d in arg})
    erp.stop()


# The big lists of a catalog, each read whole in one request: (doctype, parent doctype).
PLAIN_LISTS = (
    ("Item", None),
    ("Item Barcode", "Item"),
    ("UOM Conversion Detail", "Item"),
    ("Item Price", None),
    ("Customer", None),
)


def plain_download(fake: FakeProcess) -> dict[str, Any]:
    """The same data as one request per list, the largest page the server serves
    (``limit_page_length=0``), read and parsed: what the wire and JSON cost at the least."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {fake.api_key}:{fake.api_secret}"
    started = time.perf_counter()
    size = rows = 0
    for doctype, parent in PLAIN_LISTS:
        params = {"fields": '["*"]', "limit_page_length": "0"}
        if parent:
            params["parent"] = parent
        resp = session.get(f"{fake.url}/api/resource/{doctype}", params=params, timeout=600)
        resp.raise_for_status()
        size += len(resp.content)
        rows += len(json.loads(resp.content)["data"])
        del resp
    session.close()
    return {
        "s": round(time.perf_counter() - started, 2),
        "mb": round(size / 2**20, 1),
        "rows": rows,
    }


def _start_pull(fake: FakeProcess, db: Path) -> subprocess.Popen[str]:
    """A pull in a process of its own (``bench.pull_child``), as the agent runs."""
    args = [sys.executable, "-m", "bench.pull_child", fake.url, fake.api_key, fake.api_secret]
    return subprocess.Popen(
        [*args, str(db)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1]
    )


def _result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the pull failed (exit {process.returncode})")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _run_pull(fake: FakeProcess, db: Path) -> dict[str, Any]:
    return _result(_start_pull(fake, db))


def _held(db: Path, table: Any) -> int:
    engine = create_db_engine(db)
    with make_session_factory(engine, read_only=True)() as session:
        n = session.scalar(select(func.count()).select_from(table)) or 0
    engine.dispose()
    return int(n)


def bench_scan_during_pull(fake: FakeProcess, tmp: Path) -> dict[str, Any]:
    """Scan-to-line while a first pull writes: the till scans what it already holds."""
    db = tmp / "scan-during-pull.db"
    upgrade_to_head(db)
    process = _start_pull(fake, db)
    while process.poll() is None and _held(db, ItemBarcode) < 5000:
        time.sleep(0.2)
    checkout = checkout_for(db)
    rng = random.Random(11)
    samples: list[float] = []
    codes: list[str] = []
    cart = None
    unpriced = 0
    while process.poll() is None:
        if len(samples) % 200 == 0:
            codes = _barcodes(db)  # the catalog grows while the pull runs
        if cart is None or len(samples) % 8 == 0:
            cart = checkout.new_cart()
        code = rng.choice(codes)
        started = time.perf_counter()
        try:
            cart = checkout.read(lambda till, c=cart, b=code: till.scan(c, b))
        except CartError:
            unpriced += 1  # its price is not pulled yet: the till says so, as fast
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)  # a cashier's pace, not a flood of reads
    pull = _result(process)
    checkout.close()
    scans = {**percentiles(samples), "not_priced_yet": unpriced}
    return {"scan_to_line_during_pull": scans, "pull_s": pull["s"]}


def bench_pull(size: DemoSize, tmp: Path, changes: int = 100) -> dict[str, Any]:
    """First pull against a plain download of the same lists, the pull's peak RSS, then an
    incremental pull of ``changes`` price changes, search p95 and scan-to-line during a pull."""
    db = tmp / f"pull-{size.items}.db"
    upgrade_to_head(db)
    with FakeProcess(size) as fake:
        plain = plain_download(fake)
        before = fake.call("requests")
        first = _run_pull(fake, db)
        first["http_requests"] = fake.call("requests") - before
        server = fake.call("counts", ["Item Price"])
        fake.call("prices", changes)
        incremental = _run_pull(fake, db)
        during = bench_scan_during_pull(fake, tmp)
    checkout = checkout_for(db)
    rng = random.Random(13)
    with checkout.reading() as session:
        names = list(session.scalars(select(Item.item_name).limit(5000)))
    words = [w for n in rng.sample(names, 50) for w in n.split()[1:2]]
    search = bench_search(
        lambda t: checkout.read(lambda till: till.catalog.search_items(t, 20)), words
    )
    checkout.close()
    return {
        "items": size.items,
        "plain_download": plain,
        "first_pull": first,
        "ratio": round(first["s"] / plain["s"], 2),
        "prices_held": _held(db, ItemPrice),
        "prices_on_server": server["Item Price"],
        "incremental": {
            "changes": changes,
            "s": incremental["s"],
            "applied": incremental["applied"].get("Item Price", 0),
        },
        "item_search": search,
        **during,
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


class _Recording(ERPNextClient):
    """The agent's client, keeping each document it inserts: the raw replay sends the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inserted: list[tuple[str, dict[str, Any]]] = []

    def insert(self, doctype: str, doc: Mapping[str, Any]) -> Inserted:
        self.inserted.append((doctype, json.loads(json.dumps(dict(doc)))))
        return super().insert(doctype, doc)


def _raw_replay(fake: FakeProcess, documents: list[tuple[str, dict[str, Any]]]) -> float:
    """The same documents inserted and submitted (``docstatus: 1`` in the POST) one after
    another by a bare HTTP client: the fake's own rate, nothing of the agent's."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {fake.api_key}:{fake.api_secret}"
    started = time.perf_counter()
    for doctype, doc in documents:
        resp = session.post(f"{fake.url}/api/resource/{doctype}", json=doc, timeout=60)
        resp.raise_for_status()
    seconds = time.perf_counter() - started
    session.close()
    return seconds


def bench_push(tmp: Path, invoices: int) -> dict[str, Any]:
    """The agent's push of ``invoices`` sales against the same fake's raw insert+submit rate
    for the same documents (each in its own fresh fake process)."""
    db = tmp / "push.db"
    _seeded(db)
    checkout = checkout_for(db)
    rng = random.Random(5)
    codes = _barcodes(db)
    checkout.open_shift("ana@example.com", {"Cash": Decimal(0)})
    for _ in range(invoices):
        cart = checkout.new_cart()
        for code in rng.sample(codes, rng.choice((1, 2, 3))):
            cart = checkout.read(lambda till, c=cart, b=code: till.scan(c, b))
        cart = carts.add_payment(cart, PaymentLine("Credit Card", cart.amount_due, type="Bank"))
        checkout.commit(cart, "ana@example.com")
    checkout.close()
    # Stock is not what is measured: the fake's per-item stock check must not refuse.
    with FakeProcess(SMALL, default_stock=10.0**9) as fake:
        client = _Recording(fake.url, fake.api_key, fake.api_secret, timeout=120)
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
    with FakeProcess(SMALL, default_stock=10.0**9) as fake:
        raw_s = _raw_replay(fake, client.inserted)
    push_rate, raw_rate = created / push_s, len(client.inserted) / raw_s
    return {
        "invoices": invoices,
        "created": created,  # the opening entry included
        "push_s": round(push_s, 2),
        "push_per_s": round(push_rate, 1),
        "raw_s": round(raw_s, 2),
        "raw_per_s": round(raw_rate, 1),
        "ratio": round(push_rate / raw_rate, 2),
    }


def bench_commit_during_pull(size: DemoSize, tmp: Path, commits: int) -> dict[str, Any]:
    db = tmp / "counter.db"
    _seeded(db)
    checkout = checkout_for(db)
    codes = _barcodes(db)
    rng = random.Random(9)
    checkout.open_shift("ana@example.com", {"Cash": Decimal(0)})
    with FakeProcess(size) as fake:
        pull = _start_pull(fake, db)
        time.sleep(2.0)  # let the pull reach the items
        latency = bench_commits(checkout, codes, rng, commits)
        pulled = _result(pull)["s"]
    checkout.close()
    return {"sale_commit_during_pull": latency, "pull_s": round(pulled, 1)}


def sizes_from_env(default: Sequence[int] = DEFAULT_SIZES) -> list[int]:
    """Catalog sizes the pull bench runs at: ``BENCH_PULL_SIZES=100000,250000`` (default 100000)."""
    raw = os.environ.get("BENCH_PULL_SIZES", "")
    return [int(x) for x in raw.split(",") if x.strip()] or list(default)


def catalog(items: int) -> DemoSize:
    """The demo catalog at ``items`` items, with barcodes and customers in its proportions."""
    return DemoSize(items=items, extra_barcodes=items // 2, customers=items // 5)


def run_agent_bench(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    invoices: int = 2_000,
    commits: int = 300,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="appliance-agent-bench-") as tmp_:
        tmp = Path(tmp_)
        results: dict[str, Any] = {"pull": []}
        for items in sizes:
            one = bench_pull(catalog(items), tmp)
            print(f"pull at {items}: {json.dumps(one)}", flush=True)
            results["pull"].append(one)
        if invoices:
            results["push"] = bench_push(tmp, invoices)
            print(f"push: {results['push']}", flush=True)
        if commits:
            results.update(bench_commit_during_pull(catalog(min(sizes)), tmp, commits))
    return results


def print_agent_table(results: dict[str, Any]) -> None:
    print()
    print("sync agent against the fake ERPNext (its own process, HTTP on 127.0.0.1)")
    for p in results["pull"]:
        first, plain, inc = p["first_pull"], p["plain_download"], p["incremental"]
        scan = p["scan_to_line_during_pull"]
        print(f"  {p['items']} items:")
        print(
            f"    first pull {first['s']} s ({first['http_requests']} requests) vs plain "
            f"download {plain['s']} s ({plain['mb']} MB, one request a list): "
            f"ratio {p['ratio']} (goal <= 2; issue 14: <= 1.5)"
        )
        print(f"    peak RSS of the pull: {first['peak_rss_mb']} MB (goal <= 100)")
        print(
            f"    prices held {p['prices_held']} of {p['prices_on_server']} on the server; "
            f"incremental pull of {inc['changes']} price changes: {inc['s']} s, "
            f"{inc['applied']} applied"
        )
        print(f"    item search p95 {p['item_search']['p95']} ms")
        print(
            f"    scan-to-line during a first pull ({p['pull_s']} s): p50 {scan['p50']} ms, "
            f"p99 {scan['p99']} ms, max {scan['max']} ms (budget p99 <= 50 ms)"
        )
    if "push" in results:
        q = results["push"]
        print(
            f"  push: {q['created']} documents in {q['push_s']} s = {q['push_per_s']}/s; raw "
            f"insert+submit of the same: {q['raw_per_s']}/s; ratio {q['ratio']} (goal >= 0.9)"
        )
    if "sale_commit_during_pull" in results:
        c = results["sale_commit_during_pull"]
        print(
            f"  sale commit during a full pull ({results['pull_s']} s): p50 {c['p50']} ms, "
            f"p99 {c['p99']} ms, max {c['max']} ms"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=None,
        help="catalog sizes, comma-separated (default: $BENCH_PULL_SIZES or 100000; add 250000)",
    )
    parser.add_argument("--invoices", type=int, default=2_000)
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()] if args.sizes else sizes_from_env()
    results = run_agent_bench(sizes, invoices=args.invoices, commits=args.commits)
    print(json.dumps(results, indent=1))
    print_agent_table(results)
    return 0


__all__ = ["percentiles", "print_agent_table", "run_agent_bench", "sizes_from_env"]

if __name__ == "__main__":
    raise SystemExit(main())

"""CLI commands that run the counter's path without the screen: demo data, simulation, quotes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.config import Config, ConfigError, load_config
from appliance.counter.checkout import Checkout, CounterSetup
from appliance.counter.simulate import Simulator
from appliance.demo.masters import DemoSize
from appliance.demo.seed import seed_demo
from appliance.sales.cart import Cart, CartError
from appliance.store import watermark
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.store.sales import CommittedSale


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def _config(args: argparse.Namespace) -> Config:
    path = Path(args.config) if getattr(args, "config", None) else None
    return load_config(path)


def open_checkout(cfg: Config, db: Path | None = None) -> Checkout:
    db = db or paths.db_path()
    try:
        watermark.check(db)  # a store that lost committed sales must not sell on
    except watermark.StoreBehindError as exc:
        raise CartError(str(exc)) from None
    if not db.exists():
        raise CartError(f"no database at {db}: run `appliance demo-data` or let the agent sync")
    engine = create_db_engine(db)
    setup = CounterSetup(
        terminal_id=cfg.terminal.id,
        pos_profile=cfg.pos_profile,
        scan=cfg.scan,
        store_credit_modes=cfg.terminal.store_credit_modes,
    )
    return Checkout(
        make_session_factory(engine, read_only=True), make_session_factory(engine), setup
    )


def demo_data(args: argparse.Namespace) -> int:
    """Create (or complete) the demo store in $APPLIANCE_DATA; idempotent."""
    db = paths.db_path()
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    upgrade_to_head(db)
    size = DemoSize(items=args.items, customers=args.customers, seed=args.seed)
    stats = seed_demo(make_session_factory(create_db_engine(db)), size)
    out: dict[str, Any] = {
        "database": str(db),
        "items": size.items,
        "customers": size.customers,
        "applied": getattr(stats, "as_dict", lambda: str(stats))(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(out, indent=1, default=str))
    return 0


def _acknowledge(committed: CommittedSale, cart: Cart) -> None:
    """`simulate --each`: one line per sale, written and flushed only once the sale is durable:
    a reader that has the line has an acknowledged sale (a power-cut test's definition)."""
    assert cart.totals is not None
    line = {
        "sale": committed.receipt_no,
        "grand_total": str(cart.totals.grand_total),
        "journal_seq": committed.journal_seq,
        "return": cart.is_return,
    }
    print(json.dumps(line), flush=True)


def simulate(args: argparse.Namespace) -> int:
    """Commit N realistic sales through the counter's own path and print a JSON summary."""
    if args.sales < 0 or (args.sales == 0 and not args.close_shift):
        return _fail("simulate: --sales must be at least 1 (or 0 with --close-shift)")
    try:
        checkout = open_checkout(_config(args))
    except (ConfigError, CartError) as exc:
        return _fail(f"simulate: {exc}")
    started = time.perf_counter()
    try:
        simulator = Simulator(checkout, seed=args.seed)
        result = simulator.run(args.sales, _acknowledge if args.each else None)
        if args.close_shift:
            simulator.close_shift()
    except CartError as exc:
        return _fail(f"simulate: {exc}", 1)
    finally:
        checkout.close()
    print(json.dumps(result.summary(time.perf_counter() - started), indent=1))
    return 0

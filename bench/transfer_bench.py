"""USB transfer figures: bundle size and import time for N offline sales (default 200).

    .venv/bin/python bench/transfer_bench.py [--sales 200]

Sells through the counter's path (``Simulator``) on a seeded store in a temporary directory,
closes the shift, exports, then imports into the fake ERPNext on 127.0.0.1 twice (the second
import finds everything). Prints JSON; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

# fakeerp/ (the fake ERPNext) sits beside appliance/ and is not installed: run from here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.agent.client import ERPNextClient
from appliance.config import load_config
from appliance.counter.commands import open_checkout
from appliance.counter.simulate import Simulator
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import DemoSize, all_masters
from appliance.demo.seed import seed_demo
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.transfer import bundle as bundles
from appliance.transfer.export import export_bundle
from appliance.transfer.importer import import_bundle
from fakeerp import FakeERPNext

SIZE = DemoSize(items=600, extra_barcodes=100, customers=60)


def run(sales: int, work: Path) -> dict[str, object]:
    db = work / "pos.db"
    upgrade_to_head(db)
    engine = create_db_engine(db)
    read, write = make_session_factory(engine, read_only=True), make_session_factory(engine)
    seed_demo(write, SIZE)
    checkout = open_checkout(load_config(DEMO_CONFIG), db)
    try:
        Simulator(checkout, seed=3).run(sales)
        checkout.close_shift("ana@example.com", {"Cash": Decimal(0)})
    finally:
        checkout.close()
    key = secrets.token_bytes(32)
    started = time.perf_counter()
    exported = export_bundle(read, write, terminal="DEMO1", key=key, directory=work, actor="bench")
    export_s = time.perf_counter() - started
    assert exported.path is not None
    started = time.perf_counter()
    bundle = bundles.read(exported.path, lambda terminal: key)
    verify_s = time.perf_counter() - started
    with FakeERPNext(all_masters(SIZE)) as erp:
        client = ERPNextClient(erp.url, erp.api_key, erp.api_secret)
        try:
            first = import_bundle(bundle, client)
            again = import_bundle(bundle, client)
        finally:
            client.close()
    engine.dispose()
    return {
        "sales": sales,
        "documents": bundle.manifest.documents,
        "bundle_bytes": exported.size,
        "bytes_per_document": round(exported.size / bundle.manifest.documents),
        "export_s": round(export_s, 3),
        "read_and_verify_s": round(verify_s, 3),
        "import_s": round(first.seconds, 3),
        "import_created": len(first.report.created),
        "reimport_s": round(again.seconds, 3),
        "reimport_found": len(again.report.found),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="transfer-bench-") as tmp:
        json.dump(run(args.sales, Path(tmp)), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

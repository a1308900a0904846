"""Kill -9 a process in the middle of committing sales, again and again.

Every sale the child acknowledged (printed after its commit returned) must be whole: its rows,
its outbox entry and its journal entry. Nothing half-written may exist, receipt numbers must
have no gaps, ``db check`` must be clean and the journal chain intact.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.check import check_database
from appliance.store.db import unit_of_work
from appliance.store.journal import verify
from appliance.store.models import JournalEntry, OutboxEntry, PosInvoice
from appliance.store.sales import find_sale

REPO = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("APPLIANCE_CRASH_ROUNDS", "22"))
SEED = int(os.environ.get("APPLIANCE_CRASH_SEED", "20250301"))


def _run_and_kill(db_file: Path, shift: str, delay: float) -> list[tuple[str, str]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_child", str(db_file), shift],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr and child.stderr.read()
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, err  # died by our hand, not by an error
    # Only complete lines count: a line cut short by the kill was never acknowledged.
    complete = out.split("\n")[:-1] if not out.endswith("\n") else out.split("\n")
    return [tuple(line.split()) for line in complete if line]  # type: ignore[misc]


def test_sigkill_during_sales_loses_no_acknowledged_sale_and_leaves_no_half_sale(
    factory: sessionmaker[Session], shift: str, db_file: Path
) -> None:
    rng = random.Random(SEED)
    acknowledged: list[tuple[str, str]] = []
    for _ in range(ROUNDS):
        # Kills land anywhere in the loop: mid-transaction, mid-commit, between commit and print.
        acknowledged += _run_and_kill(db_file, shift, rng.uniform(0.0, 0.15))
    assert len(acknowledged) > ROUNDS, "the child barely committed anything; kills too early?"

    with unit_of_work(factory) as uow:
        s: Session = uow.session
        for offline_id, receipt_no in acknowledged:
            sale = find_sale(s, offline_id)
            assert sale is not None, f"acknowledged sale {receipt_no} is missing"
            assert sale.receipt_no == receipt_no and sale.items and sale.payments
            entry = s.scalar(select(OutboxEntry).where(OutboxEntry.offline_id == offline_id))
            assert entry is not None and entry.payload == sale.payload
            assert s.scalar(select(JournalEntry.seq).where(JournalEntry.ref == offline_id))
        # No half-sale: each of the three parts exists only with the other two (db check),
        # and numbering has no holes even though some commits died half-way.
        assert check_database(s) == []
        receipts = sorted(int(r.split("-")[1]) for r in s.scalars(select(PosInvoice.receipt_no)))
        assert receipts == list(range(1, len(receipts) + 1))
        assert len(receipts) >= len(acknowledged)  # at most one unprinted commit per kill
        assert len(receipts) <= len(acknowledged) + ROUNDS
        result = verify(s)
        assert result.intact, result.as_dict()

"""Power cuts in the boot test's guests (issue 15): a paid sale the till acknowledged survives.

The guest commits sales with `appliance simulate --each` over SSH: it prints one line per sale
only after `Checkout.commit` returned, that is after SQLite's COMMIT (WAL, synchronous=FULL) and
the store's high-water mark (appliance/store/watermark.py, fdatasync'd) are on the disk.

**Acknowledged** means: the host had read that sale's line from the SSH channel *before* it cut
the power. The host takes that list, then cuts at once: SIGKILL to QEMU (the plug pulled: the
guest's page cache, queues and everything QEMU had not yet written are gone) or QMP
`system_reset` (which, under `-no-reboot`, stops QEMU at once: the guest is not told either).
The cut lands a random time after the first acknowledged sale, so mostly in the middle of a
commit. Sales committed but whose line the host had not read yet may survive or not; both are
fine, as long as the store is consistent.

The next boot of the same disk (the vault unlocked by the TPM, ext4 replaying its journal, SQLite
its WAL) must show: every acknowledged sale in the store with the same grand total, no receipt
number twice, `appliance db check` and `appliance journal verify` clean, and the high-water mark
at or past every acknowledged sale (so it was durable when the sale was acknowledged) and not
past the store (the store did not lose what the mark recorded).

The sales go to a copy of the image's demo store on the data vault (`POWER_CUT_DATA`): the
provisioned test till's own store has no sellable profile with the fake ERPNext's demo masters
(image/README.md, LATER), and the code path, the file system and its fsyncs are the same.
"""

from __future__ import annotations

import base64
import json
import random
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

POWER_CUT_DATA = "/var/lib/appliance/power-cut"
DEMO_STORE = "/usr/share/appliance/demo"
APPLIANCE = "/opt/appliance/venv/bin/appliance"
ENV = f"APPLIANCE_DATA={POWER_CUT_DATA} APPLIANCE_CONFIG={DEMO_STORE}/appliance.toml"
# The cut comes this many seconds (uniformly drawn) after the first acknowledged sale.
CUT_AFTER_S = (0.5, 4.0)
RECEIPT = re.compile(r"^(\w+)-(\d+)$")

# Run in the guest by the appliance's own Python after a cut: the checks and what the store and
# its mark hold, as one JSON line.
SNAPSHOT = f"""
import contextlib, io, json, sqlite3
from pathlib import Path
from appliance.cli import main
from appliance.store import watermark
db = Path("{POWER_CUT_DATA}/pos.db")
def run(*args):  # the commands themselves, in this one process: Python starts slowly here
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        try:
            rc = main(list(args))
        except SystemExit as exc:
            rc = exc.code
    return {{"rc": rc, "out": said.getvalue().strip()[-600:]}}
out = {{"db_check": run("db", "check"), "journal_verify": run("journal", "verify")}}
mark = watermark.read(db)
conn = sqlite3.connect(db)
out["mark"] = mark.as_dict() if mark else None
out["store"] = watermark.store_state(conn).as_dict()
out["behind"] = watermark.problems(conn, mark) if mark else []
out["sales"] = conn.execute("SELECT receipt_no, grand_total FROM pos_invoices").fetchall()
print("POWER-CUT-SNAPSHOT " + json.dumps(out))
"""


class CutGuest(Protocol):
    """What this needs of boot_test.Guest."""

    name: str
    proc: subprocess.Popen[bytes]
    qmp: Any

    def ssh(self, command: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]: ...

    def ssh_argv(self) -> list[str]: ...


@dataclass
class PowerCuts:
    """Every cut so far and every sale acknowledged before one (receipt -> its line)."""

    seed: int
    rng: random.Random = field(init=False)
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    cuts: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


def cut(g: CutGuest, cuts: PowerCuts, timeout: float = 300.0) -> dict[str, Any]:
    """Sell in the guest, then cut its power without warning; returns what was acknowledged."""
    number = len(cuts.cuts) + 1
    if number == 1:
        made = g.ssh(
            f"install -d -m 0750 {POWER_CUT_DATA} && cp {DEMO_STORE}/pos.db {POWER_CUT_DATA}/ "
            "&& sync && echo ok"
        )
        if made.stdout.strip() != "ok":
            raise AssertionError(f"{g.name}: power cut: no store to sell into: {made.stderr}")
    command = f"{ENV} exec {APPLIANCE} simulate --each --sales 1000000 --seed {number}"
    sim = subprocess.Popen(
        [*g.ssh_argv(), command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    read: list[str] = []
    lock = threading.Lock()

    def reader() -> None:
        assert sim.stdout
        for line in sim.stdout:
            with lock:
                read.append(line)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    started = time.monotonic()
    while True:
        with lock:
            first = any(line.startswith('{"sale"') for line in read)
        if first:
            break
        if sim.poll() is not None or time.monotonic() - started > timeout:
            sim.kill()
            said = sim.stderr.read() if sim.stderr else ""
            raise AssertionError(f"{g.name}: power cut: no sale acknowledged: {said[-500:]}")
        time.sleep(0.02)
    first_ack = time.monotonic()
    delay = cuts.rng.uniform(*CUT_AFTER_S)
    time.sleep(delay)
    with lock:  # acknowledged: read by the host before the cut, which follows at once
        seen = list(read)
    how = "SIGKILL to QEMU" if number % 2 else "QMP system_reset"
    if number % 2:
        g.proc.kill()
    else:
        g.qmp.execute("system_reset")
        try:
            g.proc.wait(10)  # -no-reboot: QEMU stops instead of rebooting
        except subprocess.TimeoutExpired:
            how += " (the guest restarted: QEMU then killed)"
            g.proc.kill()
    g.proc.wait(30)
    sim.kill()
    sim.wait()
    thread.join(10)
    acked = [json.loads(line) for line in seen if line.startswith('{"sale"')]
    for line in acked:
        cuts.acknowledged[line["sale"]] = line
    record = {
        "boot": g.name,
        "how": how,
        "after_first_ack_s": round(time.monotonic() - first_ack, 2),
        "drawn_delay_s": round(delay, 2),
        "acknowledged": len(acked),
        "last_acknowledged": acked[-1] if acked else None,
        "lines_read_after_the_cut": sum(1 for line in read[len(seen) :] if '"sale"' in line),
    }
    cuts.cuts.append(record)
    return record


def tpm_lockout_said(g: CutGuest) -> str:
    """What appliance-tpm-lockout.service said this boot (the TPM's DA counter before it acted):
    the evidence that power cuts are not counting towards a locked vault."""
    done = g.ssh("journalctl -b -o cat --no-pager -u appliance-tpm-lockout | grep appliance-tpm")
    return done.stdout.strip()


def snapshot(g: CutGuest) -> dict[str, Any]:
    encoded = base64.b64encode(SNAPSHOT.encode()).decode()
    done = g.ssh(
        f"echo {encoded} | base64 -d | env {ENV} /opt/appliance/venv/bin/python -", timeout=300
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("POWER-CUT-SNAPSHOT ")), None)
    if line is None:
        raise AssertionError(f"{g.name}: after the power cut: no snapshot: {done.stderr[-800:]}")
    got: dict[str, Any] = json.loads(line.split(" ", 1)[1])
    return got


def check_after(g: CutGuest, cuts: PowerCuts) -> dict[str, Any]:
    """In the boot after a cut: everything acknowledged so far is there and the store is clean."""
    t = time.monotonic()
    got = snapshot(g)
    stored: dict[str, list[str]] = {}
    for receipt, total in got["sales"]:
        stored.setdefault(receipt, []).append(total)
    problems = []
    lost = sorted(r for r in cuts.acknowledged if r not in stored)
    if lost:
        problems.append(f"{len(lost)} acknowledged sale(s) lost: {lost[:10]}")
    altered = [
        r
        for r, line in cuts.acknowledged.items()
        if r in stored and Decimal(stored[r][0]) != Decimal(line["grand_total"])
    ]
    if altered:
        problems.append(f"acknowledged sale(s) with another total: {altered[:10]}")
    twice = sorted(r for r, totals in stored.items() if len(totals) > 1)
    if twice:
        problems.append(f"receipt numbers stored twice: {twice[:10]}")
    for check in ("db_check", "journal_verify"):
        if got[check]["rc"] != 0:
            said = got[check]["out"]
            problems.append(f"{check.replace('_', ' ')} exit {got[check]['rc']}: {said}")
    mark = got["mark"]
    if mark is None:
        problems.append("no high-water mark")
    else:
        if got["behind"]:
            problems.append(f"the store is behind its high-water mark: {got['behind']}")
        last_seq = max((line["journal_seq"] for line in cuts.acknowledged.values()), default=0)
        if mark["journal_seq"] < last_seq:
            problems.append(
                f"the high-water mark (journal entry {mark['journal_seq']}) is behind an "
                f"acknowledged sale's entry {last_seq}"
            )
        for receipt in cuts.acknowledged:
            m = RECEIPT.match(receipt)
            if m and mark["receipts"].get(m[1], 0) < int(m[2]):
                problems.append(f"the high-water mark's receipt number is behind {receipt}")
                break
    result = {
        "acknowledged_so_far": len(cuts.acknowledged),
        "sales_in_store": len(got["sales"]),
        "kept_beyond_acknowledged": len(stored) - len(cuts.acknowledged),
        "db_check_rc": got["db_check"]["rc"],
        "journal_verify_rc": got["journal_verify"]["rc"],
        "mark": mark and {"journal_seq": mark["journal_seq"], "receipts": mark["receipts"]},
        "store": {"journal_seq": got["store"]["journal_seq"], "receipts": got["store"]["receipts"]},
        "check_s": round(time.monotonic() - t, 1),
    }
    if problems:
        raise AssertionError(f"{g.name}: after power cut {len(cuts.cuts)}: " + "; ".join(problems))
    return result

"""The counter screen's budgets (../shared/DESIGN.md) on the bench's 100,000-item store.

- scan-to-line: the real app (`PosApp.run_test` at 80x25, signed in, shift open) takes a
  wedge scan (13 digits + Enter in one burst, as a scanner sends them); measured from the
  first key to the first screen update that paints the new cart (table and totals). Headless
  Textual composes each update but skips turning it into terminal bytes; the bench does that
  step too (`render_segments`), so only the write to a tty is left out.
- cold start: `python -m appliance.cli tui` spawned in tmux at 80x25 with TERM=linux, until
  the pane shows the sign-in title.
- resident memory: VmRSS of that TUI process after sign-in and 50 sales typed by keystrokes;
  VmRSS of `appliance agent` after its first cycles against the fake ERPNext.

Run by bench/run.py at its end (``run_tui_bench(db)``), or alone on a seeded store:
``python bench/tui_bench.py /path/to/pos.db``; only the cold start (any provisioned store, the
demo's will do): ``python bench/tui_bench.py --cold-start [--runs N] /path/to/pos.db``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from textual import events
from textual.pilot import Pilot
from textual.screen import Screen

# fakeerp/ (the fake ERPNext) sits beside appliance/ and is not installed: run from here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.config import load_config
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import DemoSize, all_masters
from appliance.drivers.peripherals import StandInPeripherals
from appliance.support.activity import TillActivity
from appliance.tui.app import PosApp
from appliance.tui.backend import open_backend
from appliance.tui.context import Context
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.sell import SellScreen
from appliance.tui.screens.shift import OpenShiftScreen
from appliance.tui.widgets.cart_table import CartTable
from appliance.tui.widgets.totals_panel import TotalsPanel
from fakeerp import FakeERPNext

TMUX = shutil.which("tmux")
REPO = Path(__file__).resolve().parents[1]
SIGN_IN_TITLE = "sign in"
SELL_PROMPT = "Scan, or type"
PIN = "1234"  # Ana, the demo cashier (the bench store's shift is hers)


def store_open(screen: str) -> bool:
    """The status bar says the shift's state once the store is open."""
    return "shift open" in screen or "NO SHIFT" in screen


BUDGETS = {
    "scan_to_line_tui": ("p99", 50.0, "ms"),
    "tui_cold_start": ("p50", 1.0, "s"),
    "tui_rss": ("value", 150.0, "MB"),
    "agent_rss": ("value", 100.0, "MB"),
}


# -- (a) scan-to-line in the real app -------------------------------------------------------------
class PaintedApp(PosApp):
    """The till, noting when a screen update first paints what `probe` waits for."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, lock_seconds=3600)
        self.probe: Callable[[], bool] | None = None
        self.painted_at: float | None = None

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        render_segments = getattr(renderable, "render_segments", None)
        if render_segments is None:
            return
        render_segments(self.console)  # the bytes a terminal driver would write
        if self.probe is not None and self.painted_at is None and self.probe():
            self.painted_at = time.perf_counter()


def shelf_barcodes(db: Path, n: int, rng: random.Random) -> list[str]:
    """13-digit barcodes of ordinary items (not weighed, not fuel), one per item."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT min(b.barcode) FROM item_barcodes b JOIN items i ON i.item_code = b.parent "
            "WHERE i.is_weighed = 0 AND i.item_group != 'Fuel' AND length(b.barcode) = 13 "
            "GROUP BY b.parent"
        ).fetchall()
    return rng.sample([r[0] for r in rows], n)


def wedge(app: PosApp, code: str) -> None:
    """A keyboard-wedge scanner: the keys and the Enter arrive in one burst, no waits.

    (`pilot.press` waits for the app to go idle after every key, ~80 ms a key here: far
    slower than a scanner, so the till rightly took it for typing.)
    """
    driver = app._driver
    assert driver is not None
    for char in [*code, "enter"]:
        key = events.Key(char, char if char != "enter" else "\r")
        key.set_sender(app)
        driver.send_message(key)


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen never got there")
        await asyncio.sleep(0.001)


async def signed_in(app: PosApp, pilot: Pilot[Any]) -> SellScreen:
    """Ana signed in (her shift opened with a float of 0 if none is), on the sell screen."""
    await pilot.pause(0.2)
    await pilot.press("enter", *PIN, "enter")
    await _until(lambda: isinstance(app.screen, SellScreen | OpenShiftScreen), timeout=30)
    while isinstance(app.screen, OpenShiftScreen):  # a float of 0 per mode
        await pilot.press("enter")
        await pilot.pause(0.1)
    await _until(lambda: isinstance(app.screen, SellScreen), timeout=30)
    sell = app.screen
    assert isinstance(sell, SellScreen)
    await _until(lambda: bool(sell.query(CartTable)))  # on top, composed a moment later
    return sell


async def _scan_to_line(db: Path, codes: Sequence[str], per_sale: int) -> list[float]:
    cfg = load_config(DEMO_CONFIG)
    backend = open_backend(cfg, db)
    receipts = Path(tempfile.mkdtemp(prefix="appliance-bench-receipts-"))
    # The till's activity file too, where the real app keeps it: it is written as carts change.
    activity = TillActivity(db.parent, background=True)
    app = PaintedApp(Context(backend, StandInPeripherals(receipts), activity=activity))
    samples: list[float] = []
    try:
        async with app.run_test(size=(80, 25)) as pilot:
            sell = await signed_in(app, pilot)
            table = sell.query_one(CartTable)
            totals = sell.query_one(TotalsPanel)
            await pilot.pause(0.2)
            for n, code in enumerate(codes):
                before = sell.cart

                def landed(before: object = before) -> bool:
                    cart = sell.cart
                    return (
                        cart is not before
                        and totals.cart is cart
                        and table.row_count == len(cart.lines)
                    )

                app.painted_at = None
                app.probe = landed
                started = time.perf_counter()
                wedge(app, code)
                await _until(lambda: app.painted_at is not None)
                assert app.painted_at is not None
                samples.append((app.painted_at - started) * 1000)
                app.probe = None
                if (n + 1) % per_sale == 0:  # pay exact cash: the next cart starts empty
                    await pilot.press("f10")
                    await _until(lambda: isinstance(app.screen, PayScreen))
                    pay = app.screen
                    assert isinstance(pay, PayScreen)
                    await pilot.press("f7")
                    await _until(lambda pay=pay: pay.result is not None and pay.result.printed)
                    await pilot.press("enter")
                    await _until(lambda: isinstance(app.screen, SellScreen) and not sell.cart.lines)
                await pilot.pause(0.01)
    finally:
        backend.close()
        shutil.rmtree(receipts, ignore_errors=True)
    return samples


def bench_scan_to_line(db: Path, scans: int = 200, per_sale: int = 5) -> list[float]:
    codes = shelf_barcodes(db, scans, random.Random(7))
    return asyncio.run(_scan_to_line(db, codes, per_sale))


# -- (b), (c): the real process in tmux -----------------------------------------------------------
class Pane:
    # A tmux server of the bench's own: a server shared with other users of this machine
    # can be shutting down (its last session just ended) as a pane is asked for, and the
    # pane is silently never made.
    SOCKET = f"appliance-bench-{os.getpid()}"

    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        assert TMUX is not None
        self.name = f"bench-{uuid.uuid4().hex[:8]}"
        env_args = [arg for k, v in env.items() for arg in ("-e", f"{k}={v}")]
        line = " ".join(command)
        for _ in range(3):  # this server too may be exiting after the previous run's kill
            made = self._run(
                "new-session", "-d", "-s", self.name, "-x", "80", "-y", "25", *env_args, line,
                # If the till dies, keep its last screen (the traceback) for the error message.
                ";", "set-option", "-t", self.name, "remain-on-exit", "on",
            )  # fmt: skip
            if made.returncode == 0:
                return
            time.sleep(0.1)
        raise OSError(f"tmux could not make a pane: {made.stderr.strip()}")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert TMUX is not None
        cmd = [TMUX, "-L", self.SOCKET, *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def _tmux(self, *args: str) -> str:
        return self._run(*args).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def wait_for(
        self, what: str | Callable[[str], bool], timeout: float = 30.0, every: float = 0.005
    ) -> str:
        check = what if callable(what) else (lambda screen: what in screen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(every)
        raise TimeoutError(f"never saw {what!r}:\n{self.screen()}")

    def kill(self) -> None:
        self._tmux("kill-session", "-t", self.name)


@contextmanager
def tui_pane(db: Path) -> Iterator[Pane]:
    env = {
        "TERM": "linux",
        "APPLIANCE_DATA": str(db.parent),
        "APPLIANCE_CONFIG": str(DEMO_CONFIG),
    }
    # exec: the pane's process is the till itself, so its pid is the one to measure.
    pane = Pane(["exec", sys.executable, "-m", "appliance.cli", "tui"], env)
    try:
        yield pane
    finally:
        pane.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_cold_start_full(
    db: Path, runs: int = 5
) -> list[tuple[float, float, float, float, float]]:
    """(wall, CPU) to the sign-in screen, (wall, CPU) to the store being open and RSS (MB) then.

    The CPU figure is what the start costs the till whatever else the machine runs: on a
    shared box under load the wall time mostly measures the neighbours. The store is open when
    the status bar shows what only the store knows (the shift): from then on a PIN is checked
    at once; one keyed before waits for it.
    """
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with tui_pane(db) as pane:
            pane.wait_for(SIGN_IN_TITLE)
            signed = time.perf_counter() - started
            pid = pane.pid()
            cpu = cpu_seconds(pid)
            pane.wait_for(store_open)
            opened = time.perf_counter() - started
            samples.append((signed, cpu, opened, cpu_seconds(pid), vm_rss_mb(pid)))
            time.sleep(0.3)
    return samples


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for {pid}")


def bench_tui_rss(db: Path, sales: int = 50) -> dict[str, float]:
    codes = shelf_barcodes(db, sales * 2, random.Random(11))
    with tui_pane(db) as pane:
        pane.wait_for(SIGN_IN_TITLE)
        pid = pane.pid()
        time.sleep(0.3)
        pane.keys("Enter")
        time.sleep(0.3)
        pane.keys(PIN, "Enter")
        deadline = time.monotonic() + 30
        while SELL_PROMPT not in (screen := pane.screen()) and time.monotonic() < deadline:
            if "OPEN SHIFT" in screen:
                pane.keys("Enter")
            time.sleep(0.2)
        pane.wait_for(SELL_PROMPT)
        after_sign_in = vm_rss_mb(pid)
        for n in range(sales):
            for code in codes[2 * n : 2 * n + 2]:
                pane.keys(code, "Enter")  # one burst, as a wedge scanner types it
                time.sleep(0.05)
            time.sleep(0.2)
            for _ in range(5):  # a key can land while a scan is still on its way
                pane.keys("F10")
                try:
                    pane.wait_for("Amount due", timeout=2.0)
                    break
                except TimeoutError:
                    continue
            pane.wait_for("Amount due")
            pane.keys("F7")
            pane.wait_for("next customer")
            pane.keys("Enter")
            pane.wait_for(SELL_PROMPT)
        time.sleep(0.5)
        return {"after_sign_in": round(after_sign_in, 1), "after_sales": round(vm_rss_mb(pid), 1)}


def _agent_config(directory: Path, url: str, key: str, secret: str) -> Path:
    secret_file = directory / "erpnext.secret"
    secret_file.write_text(secret + "\n", encoding="utf-8")
    secret_file.chmod(0o600)  # the agent refuses a secret others can read
    config = directory / "agent.toml"
    config.write_text(
        f'[terminal]\nid = "DEMO1"\n\n[erpnext]\nurl = "{url}"\napi_key = "{key}"\n'
        f'api_secret_file = "{secret_file}"\npos_profile = "Main POS"\ntimeout = 30\n\n'
        '[scan]\nembedded_layouts = ["20IIIIIWWWWWC", "22IIIIIPPPPPC"]\nweight_uoms = ["Kg"]\n',
        encoding="utf-8",
    )
    return config


def bench_agent_rss(db: Path, window: float = 45.0) -> dict[str, Any]:
    """The agent on the bench store against a fake ERPNext with a small catalog.

    The fake serves the default demo masters (2,400 items), not 100,000: building and serving
    the full catalog over HTTP would take minutes. What the agent holds is the store (100,000
    items locally), the outbox of the bench's sales, and one pull; RSS is read when the
    outbox has drained or when ``window`` seconds have passed, whichever comes first.
    """
    with FakeERPNext(all_masters(DemoSize())) as erp:
        config = _agent_config(db.parent, erp.url, erp.api_key, erp.api_secret)
        env = {**os.environ, "APPLIANCE_DATA": str(db.parent), "APPLIANCE_CONFIG": str(config)}
        for var in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(var, None)
        log = (db.parent / "agent.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.cli", "agent", "--interval", "1"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        started = time.monotonic()
        peak = 0.0
        status: dict[str, Any] = {}
        try:
            while time.monotonic() - started < window and proc.poll() is None:
                time.sleep(1.0)
                peak = max(peak, vm_rss_mb(proc.pid))
                done = subprocess.run(
                    [sys.executable, "-m", "appliance.cli", "status"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode == 0:
                    status = json.loads(done.stdout)
                    if _drained(status):
                        break
            rss = vm_rss_mb(proc.pid) if proc.poll() is None else float("nan")
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
        return {
            "rss": round(rss, 1),
            "peak": round(peak, 1),
            "seconds": round(time.monotonic() - started, 1),
            "drained": _drained(status),
        }


def _drained(status: dict[str, Any]) -> bool:
    queue = status.get("queue")
    return isinstance(queue, dict) and queue.get("ready") == 0 and queue.get("in_flight") == 0


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

    return {"n": len(ordered), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": at(1.0)}


# -- report ---------------------------------------------------------------------------------------
def run_tui_bench(db: Path) -> dict[str, Any]:
    """Every TUI figure on the store at ``db`` (signed in as Ana, whose shift is open)."""
    results: dict[str, Any] = {}
    results["scan_to_line_tui"] = percentiles(bench_scan_to_line(db))
    if TMUX is None:
        print("tmux is not installed: no cold start or TUI memory figures", flush=True)
    else:
        runs = bench_cold_start_full(db)
        cold = [run[0] for run in runs]
        results["tui_cold_start"] = {
            "p50": round(statistics.median(cold), 3),
            "min": round(min(cold), 3),
            "max": round(max(cold), 3),
            "cpu_p50": round(statistics.median(run[1] for run in runs), 3),
            "store_open_p50": round(statistics.median(run[2] for run in runs), 3),
        }
        try:
            results["tui_rss"] = bench_tui_rss(db)
        except (TimeoutError, OSError, ValueError) as exc:
            print(f"tui_rss: not measured: {exc}", flush=True)
    results["agent_rss"] = bench_agent_rss(db)
    return results


def print_tui_table(results: dict[str, Any]) -> None:
    print()
    print(f"{'counter screen':32} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   budget")
    r = results["scan_to_line_tui"]
    verdict = "ok" if r["p99"] <= 50.0 else "OVER"
    print(
        f"{'scan_to_line_tui (ms)':32} {r['p50']:8.2f} {r['p95']:8.2f} {r['p99']:8.2f} "
        f"{r['max']:8.2f}   p99 <= 50.0 ms: {verdict}"
    )
    if "tui_cold_start" in results:
        c = results["tui_cold_start"]
        verdict = "ok" if c["p50"] <= 1.0 else "OVER"
        print(
            f"{'tui_cold_start (s, 5 runs)':32} {c['p50']:8.3f} {'':8} {'':8} {c['max']:8.3f}   "
            f"median <= 1.0 s: {verdict}"
        )
        print(f"{'  of which CPU (s, median)':32} {c['cpu_p50']:8.3f}")
        print(f"{'  store open (s, median)':32} {c['store_open_p50']:8.3f}")
    if "tui_rss" in results:
        m = results["tui_rss"]
        verdict = "ok" if m["after_sales"] <= 150.0 else "OVER"
        print(
            f"{'tui_rss (MB) signed in / 50 sales':32} {m['after_sign_in']:8.1f} "
            f"{m['after_sales']:8.1f} {'':8} {'':8}   <= 150 MB: {verdict}"
        )
    a = results["agent_rss"]
    verdict = "ok" if a["rss"] <= 100.0 and a["peak"] <= 100.0 else "OVER"
    note = "outbox drained" if a["drained"] else "outbox NOT drained"
    print(
        f"{'agent_rss (MB) now / peak':32} {a['rss']:8.1f} {a['peak']:8.1f} {'':8} {'':8}   "
        f"<= 100 MB: {verdict} ({note} after {a['seconds']} s)"
    )


def print_cold_start(db: Path, runs: int) -> None:
    """Only the cold start, run by run: to sign-in and to the store open (wall, CPU), RSS then."""
    samples = bench_cold_start_full(db, runs)
    head = ("sign-in s", "CPU s", "store open s", "CPU s", "RSS MB")
    print(f"{'run':>4} " + " ".join(f"{h:>12}" for h in head))
    for n, sample in enumerate(samples, 1):
        print(f"{n:4} " + " ".join(f"{v:12.3f}" for v in sample))
    p50 = [statistics.median(s[i] for s in samples) for i in range(len(head))]
    verdict = "ok" if p50[0] <= 1.0 else "OVER"
    print(f"{'p50':>4} " + " ".join(f"{v:12.3f}" for v in p50) + f"   <= 1.0 s: {verdict}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The counter screen's budgets.")
    parser.add_argument("db", type=Path, help="a seeded store (with Ana's shift open)")
    parser.add_argument("--cold-start", action="store_true", help="only the cold start")
    parser.add_argument("--runs", type=int, default=5, help="cold starts to time (default 5)")
    args = parser.parse_args(argv)
    db = args.db.resolve()
    if args.cold_start:
        if TMUX is None:
            print("tmux is not installed: no cold start figures")
            return 2
        print_cold_start(db, args.runs)
        return 0
    print_tui_table(run_tui_bench(db))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())

"""A paid sale is never lost at the counter: a full disk, a database another program holds, an
item whose price overflows. The real app on a real SQLite file: the cart stays, the cashier is
told what happened and what to do, the retry works once the cause is gone, the app never exits,
and the sale is on disk exactly once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.pilot import Pilot
from textual.widgets import Static

from appliance.store.models import OutboxEntry, PosInvoice
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.returns import ReturnScreen
from appliance.tui.screens.sell import SellScreen

from .conftest import notices, run_async, start_selling, until, wedge_scan
from .test_day import SUPERVISOR_PIN, sell_screen, shelf_barcodes

TMPFS_BYTES = 8 * 1024 * 1024


@pytest.fixture
def data_dir(
    tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The store on a small filesystem of its own, so the test can fill it for real."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("filling a real disk needs root to mount a small tmpfs")
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(mount)], check=True
    )
    try:
        shutil.copyfile(seeded_template, mount / "pos.db")
        monkeypatch.setenv("APPLIANCE_DATA", str(mount))
        from appliance.demo import DEMO_CONFIG

        monkeypatch.setenv("APPLIANCE_CONFIG", str(DEMO_CONFIG))
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the filesystem says it is full (ENOSPC); return it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 512, 1):  # big blocks, then what is left, byte by byte
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    assert os.statvfs(disk).f_bavail == 0, "the disk is not full"
    return filler


def sales_with_id(backend: Backend, offline_id: str) -> tuple[int, int]:
    """(POS Invoices, outbox entries) stored under this sale id."""
    with backend.counter.read() as session:
        sales = session.scalar(
            select(func.count()).select_from(PosInvoice).where(PosInvoice.offline_id == offline_id)
        )
        queued = session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.offline_id == offline_id)
        )
    return int(sales or 0), int(queued or 0)


def pay_message(screen: PayScreen) -> str:
    return str(screen.query_one("#pay-message", Static).render())


def still_running(app: PosApp) -> bool:
    return app.is_running and app.return_code is None


async def to_pay_screen(
    app: PosApp, pilot: Pilot[None], backend: Backend, supervisor: bool = False
) -> PayScreen:
    if supervisor:
        await start_selling(app, pilot, SUPERVISOR_PIN, row=1)
    else:
        await start_selling(app, pilot)
    sell = sell_screen(app)
    await wedge_scan(pilot, shelf_barcodes(backend, 1)[0])
    await until(pilot, lambda: len(sell.cart.lines) == 1)
    await pilot.press("f10")
    await until(pilot, lambda: isinstance(app.screen, PayScreen))
    assert isinstance(app.screen, PayScreen)
    return app.screen


@run_async
async def test_a_full_disk_keeps_the_paid_cart_and_the_retry_saves_it_once(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    async with counter() as (app, pilot):
        pay = await to_pay_screen(app, pilot, backend)
        offline_id = pay.cart.offline_id
        filler = fill(data_dir)

        await pilot.press("f7")  # exact cash: the cart is paid, the commit fails
        await until(pilot, lambda: "could not be saved" in pay_message(pay))
        said = pay_message(pay)
        assert "disk is full" in said and "cart is kept" in said and "Enter" in said, said
        assert "OperationalError" not in said
        assert still_running(app) and app.screen is pay
        assert pay.cart.is_fully_paid and pay.result is None
        assert sales_with_id(backend, offline_id) == (0, 0)

        # Enter while the disk is still full: told again, nothing half-written.
        await pilot.press("enter")
        await until(pilot, lambda: not pay.committing)
        await until(pilot, lambda: "disk is full" in pay_message(pay))
        assert still_running(app) and pay.result is None

        filler.unlink()  # IT frees space
        await pilot.press("enter")
        await until(pilot, lambda: pay.result is not None and pay.result.printed)
        assert sales_with_id(backend, offline_id) == (1, 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        assert not sell_screen(app).cart.lines
        assert sales_with_id(backend, offline_id) == (1, 1)
        assert still_running(app)


class Holder:
    """Another process holding the store's write lock (BEGIN IMMEDIATE) until released."""

    SCRIPT = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
        "c.execute('ROLLBACK')\n"
    )

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "held"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=10)


def write_lock_is_held(db: Path) -> bool:
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        probe.close()


@run_async
async def test_a_database_locked_by_another_process_keeps_the_cart_and_the_retry_saves_it(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    db = data_dir / "pos.db"
    async with counter() as (app, pilot):
        pay = await to_pay_screen(app, pilot, backend)
        offline_id = pay.cart.offline_id
        holder = Holder(db)
        try:
            assert write_lock_is_held(db)
            await pilot.press("f7")
            await until(pilot, lambda: "could not be saved" in pay_message(pay), timeout=15)
            said = pay_message(pay)
            assert "another program" in said and "cart is kept" in said, said
            assert still_running(app) and app.screen is pay and pay.cart.is_fully_paid
        finally:
            holder.release()
        assert not write_lock_is_held(db)
        await pilot.press("enter")
        await until(pilot, lambda: pay.result is not None and pay.result.printed)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        assert sales_with_id(backend, offline_id) == (1, 1)
        assert still_running(app)


def overflow_price(db: Path, barcode: str) -> None:
    """The back office keyed a price no amount can hold (it came down in a sync)."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE item_prices SET price_list_rate = '1E+999999' WHERE item_code = "
            "(SELECT parent FROM item_barcodes WHERE barcode = ?)",
            (barcode,),
        )
    conn.close()


@run_async
async def test_an_item_whose_price_overflows_is_refused_and_the_cart_stays(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    good, bad = shelf_barcodes(backend, 2)
    overflow_price(data_dir / "pos.db", bad)
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await wedge_scan(pilot, good)
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        await wedge_scan(pilot, bad)
        message = sell.query_one("#message", Static)
        await until(pilot, lambda: "not added" in str(message.render()))
        assert "price" in str(message.render())
        assert still_running(app) and len(sell.cart.lines) == 1
        await wedge_scan(pilot, good)  # the till goes on selling
        await until(pilot, lambda: sell.cart.lines[0].qty == 2)
        assert still_running(app)


@run_async
async def test_a_refund_on_a_full_disk_stays_on_screen_and_the_retry_saves_it(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    async with counter() as (app, pilot):
        # A supervisor refunds without asking anyone: the refund's save is the first write.
        pay = await to_pay_screen(app, pilot, backend, supervisor=True)
        await pilot.press("f7")
        await until(pilot, lambda: pay.result is not None and pay.result.printed)
        assert pay.result is not None
        receipt_no = pay.result.receipt_no
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))

        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ReturnScreen))
        returns = app.screen
        assert isinstance(returns, ReturnScreen)
        await wedge_scan(pilot, receipt_no)
        await until(pilot, lambda: returns.original is not None)
        await pilot.press("f3")
        filler = fill(data_dir)
        await pilot.press("f10")
        message = returns.query_one("#return-message", Static)
        await until(pilot, lambda: "could not be saved" in str(message.render()))
        said = str(message.render())
        assert "disk is full" in said and "F10" in said, said
        assert still_running(app) and app.screen is returns and not returns.busy
        assert "cart is kept" in said

        filler.unlink()
        await pilot.press("f10")  # the same approved refund, saved now
        await until(pilot, lambda: isinstance(app.screen, SellScreen), timeout=10)
        with backend.counter.read() as session:
            refunds = session.scalar(
                select(func.count()).select_from(PosInvoice).where(PosInvoice.is_return)
            )
        assert refunds == 1
        assert still_running(app)


@run_async
async def test_a_void_on_a_full_disk_is_a_notice_and_the_sale_stays(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    """Any other write (here the void's journal entry) that fails is said, never an exit."""
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await wedge_scan(pilot, shelf_barcodes(backend, 1)[0])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        filler = fill(data_dir)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")  # VOID it
        await until(pilot, lambda: "disk is full" in notices(app))
        assert still_running(app) and app.screen is sell and len(sell.cart.lines) == 1

        filler.unlink()
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")
        await until(pilot, lambda: not sell.cart.lines)
        assert still_running(app)

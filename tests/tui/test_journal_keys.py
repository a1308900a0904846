"""The receipt journal, price check and quick keys in the real app, driven by keys (issue 19)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from appliance.counter.door import Counter
from appliance.drivers.peripherals import StandInPeripherals
from appliance.drivers.printer.receipt import ReceiptData
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.screens.journal import JournalScreen
from appliance.tui.screens.price_check import PriceCheckDialog
from appliance.tui.screens.quick_keys import QuickKeysScreen
from appliance.tui.screens.returns import ReturnScreen
from appliance.tui.screens.sell import SellScreen

from .conftest import human, run_async, start_selling, until, wedge_scan
from .test_day import pay, sell_screen, shelf_barcodes


def shown(app: object, selector: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return str(screen.query_one(selector, Static).render())


async def sales_then_the_journal(app: PosApp, pilot: Pilot[None], *codes: str) -> JournalScreen:
    """One sale of each code, paid in exact cash; then Ctrl+F, the receipt journal."""
    await start_selling(app, pilot)
    for code in codes:
        await wedge_scan(pilot, code)
        await until(pilot, lambda: len(sell_screen(app).cart.lines) == 1)
        await pay(app, pilot, "f7")
    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(app.screen, JournalScreen))
    journal = app.screen
    assert isinstance(journal, JournalScreen)
    return journal


async def open_quick_keys(app: PosApp, pilot: Pilot[None]) -> QuickKeysScreen:
    await pilot.press("ctrl+g")
    await until(pilot, lambda: isinstance(app.screen, QuickKeysScreen))
    keys = app.screen
    assert isinstance(keys, QuickKeysScreen)
    return keys


@run_async
async def test_find_a_past_sale_reprint_it_and_return_from_it(  # type: ignore[no-untyped-def]
    counter, backend: Backend, devices: StandInPeripherals, data_dir: Path
) -> None:
    first, second = shelf_barcodes(backend, 2)
    async with counter() as (app, pilot):
        journal = await sales_then_the_journal(app, pilot, first, second)
        await until(pilot, lambda: len(journal.page.hits) == 2)  # the latest, untyped
        await human(pilot, "demo1-000001", gap=0.01)  # as read off the paper, any case
        await pilot.press("enter")
        await until(pilot, lambda: [h.receipt_no for h in journal.page.hits] == ["DEMO1-000001"])
        await until(pilot, lambda: "DEMO1-000001" in shown(app, "#journal-receipt"))
        assert "not sent to ERPNext yet" in shown(app, "#journal-receipt")
        assert journal.query_one("#journal-hits", DataTable).row_count == 1

        printed = set(devices.receipts_dir.iterdir())
        await pilot.press("f4")
        await until(pilot, lambda: "Reprinted DEMO1-000001" in shown(app, "#journal-message"))
        (copy,) = set(devices.receipts_dir.iterdir()) - printed
        assert "COPY" in copy.read_text(encoding="utf-8")

        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ReturnScreen))
        returns = app.screen
        assert isinstance(returns, ReturnScreen)
        await until(pilot, lambda: returns.original is not None)
        assert returns.code == "DEMO1-000001"


@run_async
async def test_a_price_check_adds_nothing(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    (code,) = shelf_barcodes(backend, 1)
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, PriceCheckDialog))
        await wedge_scan(pilot, code)
        await until(pilot, lambda: "SKU-" in shown(app, "#price-result"))
        assert "Nos:" in shown(app, "#price-result")
        await wedge_scan(pilot, "0000000000000")
        await until(pilot, lambda: "SKU-" not in shown(app, "#price-result"))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        assert sell_screen(app).cart.lines == ()


@run_async
async def test_quick_keys_sell_an_item_with_one_key(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        keys = await open_quick_keys(app, pilot)
        # Nothing sold on this till yet: it opens on the first group, not on empty favourites.
        await until(pilot, lambda: keys.tab == 1 and bool(keys.page.items))
        assert "[Bakery]" in shown(app, "#quick-tabs")
        wanted = keys.page.items[1]
        assert f"2 {wanted.item_name}" in shown(app, "#quick-grid")
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        await until(pilot, lambda: len(sell_screen(app).cart.lines) == 1)
        assert sell_screen(app).cart.lines[0].item_code == wanted.item_code
        await pay(app, pilot, "f7")

        keys = await open_quick_keys(app, pilot)  # now it has a favourite
        await until(pilot, lambda: [i.item_code for i in keys.page.items] == [wanted.item_code])
        assert keys.tab == 0


@run_async
async def test_the_journal_reads_each_receipt_it_shows_once(  # type: ignore[no-untyped-def]
    counter, backend: Backend, monkeypatch
) -> None:
    """Moving through the list shows the highlighted sale: one read of the store for it, not
    one for the key and another for the table's highlight (a slow disk doubles every step)."""
    codes = shelf_barcodes(backend, 3)
    read: list[str] = []
    receipt = Counter.receipt

    def counted(self: Counter, offline_id: str, *, reprint: bool = False) -> ReceiptData:
        read.append(offline_id)
        return receipt(self, offline_id, reprint=reprint)

    monkeypatch.setattr(Counter, "receipt", counted)
    async with counter() as (app, pilot):
        journal = await sales_then_the_journal(app, pilot, *codes)
        await until(pilot, lambda: "DEMO1-000003" in shown(app, "#journal-receipt"))
        await pilot.pause(0.3)
        read.clear()
        await pilot.press("down")
        await until(pilot, lambda: "DEMO1-000002" in shown(app, "#journal-receipt"))
        await pilot.press("down")
        await until(pilot, lambda: "DEMO1-000001" in shown(app, "#journal-receipt"))
        await pilot.pause(0.3)
        first, second = (h.offline_id for h in journal.page.hits[1:])
        assert read == [first, second]


@run_async
async def test_quick_keys_of_a_store_with_many_item_groups_fit_the_screen(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    """A stock ERPNext site's catalogue has dozens of item groups: the group tabs stay on one
    line, and the tiles and the message line stay on the 80x25 screen."""
    with sqlite3.connect(data_dir / "pos.db") as db:
        codes = [row[0] for row in db.execute("SELECT item_code FROM items LIMIT 60")]
        for n, code in enumerate(codes):
            db.execute(
                "UPDATE items SET item_group = ? WHERE item_code = ?",
                (f"Department {n:02d} goods", code),
            )
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        keys = await open_quick_keys(app, pilot)
        await until(pilot, lambda: bool(keys.page.items))
        assert len(keys.tabs) > 50
        message = keys.query_one("#quick-message", Static)
        grid = keys.query_one("#quick-grid", Static)
        tabs = keys.query_one("#quick-tabs", Static)
        assert tabs.region.height == 1, tabs.region
        assert f"[{keys.tabs[keys.tab]}]" in shown(app, "#quick-tabs")
        assert grid.region.height >= 5 and message.region.height == 1
        assert message.region.bottom <= 24, message.region  # above the footer
        far = keys.tab + 30
        for _ in range(30):  # to a group far along: its tab is on the line, marked
            await pilot.press("right")
        await until(pilot, lambda: keys.tab == far)
        await until(pilot, lambda: f"[{keys.tabs[far]}]" in shown(app, "#quick-tabs"))
        assert tabs.region.height == 1

"""A whole day at the counter, driven by keys through the real app, checked in the database.

Sign in, open the shift, sell 20 times (wedge scans typed at scanner speed while the search box
holds text, a weighed item from a scale label, a discount a supervisor overrides, a split
payment, hold and recall, a new customer made offline), refund a sale and a split-tender one
(card and cash back), a no-sale, an X report, close with a Z report.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from textual.widgets import Input, Static

from appliance.counter.door import Counter
from appliance.demo.masters import ean13
from appliance.drivers.peripherals import StandInPeripherals
from appliance.store.check import check_database
from appliance.store.journal import verify
from appliance.store.models import (
    Customer,
    CustomerSyncState,
    JournalEntry,
    OutboxEntry,
    PosClosingEntry,
    PosInvoice,
)
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog, OverrideDialog, PromptDialog
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.returns import ReturnScreen
from appliance.tui.screens.sell import SellScreen
from appliance.tui.screens.shift import CloseShiftScreen, OpenShiftScreen, ReportDialog
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import human, run_async, until, wedge_scan

SUPERVISOR_PIN = "9999"


# Items GST and PST apply to (not zero-rated food, no levy): a sale whose taxes show.
TAXED_GROUPS = "'Household', 'Hardware'"


def shelf_barcodes(backend: Backend, count: int, *, taxed: bool = False) -> list[str]:
    """Barcodes of ordinary priced items (not weighed, not fuel) in the seeded store."""
    groups = f"AND i.item_group IN ({TAXED_GROUPS}) " if taxed else ""
    with backend.counter.read() as session:
        rows = session.execute(
            text(
                "SELECT b.barcode FROM item_barcodes b JOIN items i ON i.item_code = b.parent "
                "WHERE i.is_weighed = 0 AND i.item_group != 'Fuel' AND b.barcode LIKE '06%' "
                f"{groups}ORDER BY b.barcode LIMIT :n"
            ),
            {"n": count},
        ).all()
    return [r[0] for r in rows]


async def open_return(app: PosApp, pilot, receipt: str) -> ReturnScreen:  # type: ignore[no-untyped-def]
    """F12, Return / refund, the receipt scanned: the return screen with the sale loaded."""
    await menu(app, pilot, "Return / refund")
    await until(pilot, lambda: isinstance(app.screen, ReturnScreen))
    screen = app.screen
    assert isinstance(screen, ReturnScreen)
    await wedge_scan(pilot, receipt)
    await until(pilot, lambda: screen.original is not None)
    return screen


def scale_label(plu: str, grams: int) -> str:
    """A weight-embedded EAN-13 from the scale: 20 + 5-digit PLU + grams + check digit."""
    return ean13(f"20{int(plu):05d}{grams:05d}")


def weighed_plu(backend: Backend) -> str:
    with backend.counter.read() as session:
        return str(
            session.execute(
                text(
                    "SELECT b.barcode FROM item_barcodes b JOIN items i ON i.item_code = b.parent "
                    "WHERE i.is_weighed = 1 AND length(b.barcode) <= 5 ORDER BY b.barcode LIMIT 1"
                )
            ).scalar_one()
        )


def sell_screen(app: PosApp) -> SellScreen:
    assert isinstance(app.screen, SellScreen), app.screen
    return app.screen


async def pay(app: PosApp, pilot, *keys: str) -> PayScreen:  # type: ignore[no-untyped-def]
    """F10, then the given keys on the pay screen; waits for the commit and the receipt."""
    await pilot.press("f10")
    await until(pilot, lambda: isinstance(app.screen, PayScreen))
    screen = app.screen
    assert isinstance(screen, PayScreen)
    for key in keys:
        await pilot.press(key)
        await pilot.pause(0.05)
    await until(pilot, lambda: screen.result is not None and screen.result.printed)
    await pilot.press("enter")
    await until(
        pilot, lambda: isinstance(app.screen, SellScreen) and not sell_screen(app).cart.lines
    )
    return screen


async def approve(app: PosApp, pilot, reason: str) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: isinstance(app.screen, OverrideDialog))
    await human(pilot, reason, gap=0.01)
    await pilot.press("enter")
    await human(pilot, SUPERVISOR_PIN, gap=0.01)
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, OverrideDialog))


async def answer(app: PosApp, pilot, value: str) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: isinstance(app.screen, PromptDialog))
    dialog = app.screen
    dialog.query_one(Input).value = ""
    await human(pilot, value, gap=0.01)
    await pilot.press("enter")
    await until(pilot, lambda: app.screen is not dialog)


async def menu(app: PosApp, pilot, entry: str) -> None:  # type: ignore[no-untyped-def]
    from appliance.tui.screens.sell import MENU

    await pilot.press("f12")
    await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
    for _ in range([m[0] for m in MENU].index(entry)):
        await pilot.press("down")
    await pilot.press("enter")


@run_async
async def test_a_whole_day_at_the_counter(  # type: ignore[no-untyped-def]
    counter, backend: Backend, devices: StandInPeripherals, data_dir: Path
) -> None:
    codes = shelf_barcodes(backend, 40)
    plu = weighed_plu(backend)
    async with counter() as (app, pilot):
        # -- sign in and open the shift with a float ------------------------------------------
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        await human(pilot, "150", gap=0.01)
        for _ in backend.counter.checkout.profile.modes:
            await pilot.press("enter")
            await pilot.pause(0.1)
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        sell = sell_screen(app)
        search = sell.query_one("#search", Input)

        # -- 1: a wedge scan while the search box holds typed text ----------------------------
        await human(pilot, "cof")
        await pilot.pause(0.2)
        assert search.value == "cof"
        await wedge_scan(pilot, codes[0])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        assert search.value == "cof", "the scan must never be typed into the search box"
        assert sell.cart.lines[0].barcode == codes[0]
        await pilot.press("escape")
        assert search.value == ""
        first = await pay(app, pilot, "f7")  # exact cash
        assert first.result is not None
        first_receipt = first.result.receipt_no

        # -- 2: a weighed item from a scale label, paid by card -------------------------------
        await wedge_scan(pilot, scale_label(plu, 1250))
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        line = sell.cart.lines[0]
        assert line.is_weighed and line.qty == D("1.250")
        await pay(app, pilot, "f3")  # Credit Card, what is left

        # -- 3: a 25% line discount (cashier limit 10%) approved by the supervisor; split -----
        await wedge_scan(pilot, codes[1])
        await wedge_scan(pilot, codes[2])
        await until(pilot, lambda: len(sell.cart.lines) == 2)
        await pilot.press("f3")
        await answer(app, pilot, "25")
        await approve(app, pilot, "damaged box")
        await until(pilot, lambda: sell.cart.lines[-1].discount_percentage == D(25))
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, PayScreen))
        split = app.screen
        assert isinstance(split, PayScreen)
        await human(pilot, "5", gap=0.01)
        await pilot.press("f2")  # 5.00 cash
        await until(pilot, lambda: len(split.cart.payments) == 1)
        await pilot.press("f3")  # the rest on the card
        await until(pilot, lambda: split.result is not None and split.result.printed)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        assert split.result is not None
        split_id = split.result.offline_id
        split_receipt = split.result.receipt_no

        # -- 4, 5: hold a sale, sell another, recall the held one -----------------------------
        await wedge_scan(pilot, codes[3])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        held_id = sell.cart.offline_id
        await pilot.press("f6")
        await until(pilot, lambda: len(sell.counter.held) == 1 and not sell.cart.lines)
        await wedge_scan(pilot, codes[4])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        await pay(app, pilot, "f7")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("enter")
        await until(pilot, lambda: sell.cart.offline_id == held_id and not sell.counter.held)
        await pay(app, pilot, "f7")

        # -- 6: a new customer made offline (name, phone, province, tax category) -------------
        await pilot.press("f5")
        await pilot.pause(0.2)
        await pilot.press("f2")
        await answer(app, pilot, "Dana Offline")
        await answer(app, pilot, "6045550100")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        assert isinstance(app.screen, ChoiceDialog)
        provinces = app.screen.entries
        for _ in range(provinces.index("Ontario")):
            await pilot.press("down")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, ChoiceDialog) and app.screen.title_text == "Tax category"
            ),
        )
        await pilot.press("enter")  # (none)
        await until(
            pilot, lambda: isinstance(app.screen, SellScreen) and sell.cart.customer is not None
        )
        await wedge_scan(pilot, codes[5])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        taxes = {t.account_head for t in sell.cart.taxes}
        assert any("HST" in t for t in taxes), taxes  # Ontario's HST, from the new address
        await pay(app, pilot, "f7")

        # -- 7..20: a queue of ordinary sales, scanned at scanner speed ------------------------
        for n in range(6, 20):
            await wedge_scan(pilot, codes[n])
            await until(pilot, lambda: len(sell.cart.lines) == 1)
            await pay(app, pilot, "f7" if n % 2 else "f9")  # exact, or the next banknote

        # -- a return of the first sale, its receipt scanned, approved ------------------------
        await open_return(app, pilot, first_receipt)
        await pilot.press("f3")  # everything
        await pilot.press("f10")
        await approve(app, pilot, "customer changed mind")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))

        # -- a return of the split sale: back to the card first, then cash over the counter ---
        await open_return(app, pilot, split_receipt)
        await pilot.press("f3", "f10")
        await approve(app, pilot, "wrong size")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        said = str(sell.query_one("#message", Static).render())
        assert said.endswith(" back to Credit Card, hand back 5.00 cash"), said

        # -- a no-sale, approved, then the X report counts it and the returns -----------------
        await menu(app, pilot, "No sale (open drawer)")
        await approve(app, pilot, "change for the float")
        await until(pilot, lambda: "no sale" in str(sell.query_one("#message", Static).render()))
        await menu(app, pilot, "X report")
        await until(pilot, lambda: isinstance(app.screen, ReportDialog))
        x_dialog = app.screen
        assert isinstance(x_dialog, ReportDialog)
        x_report = x_dialog.report
        x_text = str(x_dialog.query_one("#report-text Static", Static).render())
        assert x_report.drawer_openings == 1 and x_report.return_count == 2
        assert x_report.sales_total + x_report.returns_total == x_report.grand_total
        assert "No-sale drawer openings" in x_text and "GST 5%" in x_text, x_text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))

        # -- close the shift: counted cash 1.00 short -----------------------------------------
        expected = {
            m.mode_of_payment: m.expected_amount for m in backend.call(Counter.shift_totals).modes
        }
        await menu(app, pilot, "Close shift (Z report)")
        await until(pilot, lambda: isinstance(app.screen, CloseShiftScreen))
        for mode in [m.mode_of_payment for m in backend.counter.checkout.profile.modes]:
            counted = expected.get(mode, D(0)) - (D(1) if mode == "Cash" else D(0))
            box = app.screen.focused
            assert isinstance(box, Input)
            box.value = ""
            await human(pilot, str(counted), gap=0.01)
            await pilot.press("enter")
            await pilot.pause(0.1)
        await until(pilot, lambda: isinstance(app.screen, ReportDialog))
        over_short = str(app.screen.query_one("#over-short", Static).render())
        assert "-1.00" in over_short
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))

    # -- the database tells the day's story ------------------------------------------------------
    with backend.counter.read() as session:
        sales = session.scalars(select(PosInvoice).order_by(PosInvoice.id)).all()
        plain = [s for s in sales if not s.is_return]
        refunds = [s for s in sales if s.is_return]
        assert len(plain) == 20 and len(refunds) == 2
        assert refunds[0].return_against is not None
        assert refunds[0].return_against.receipt_no == first_receipt
        assert all(p.amount < 0 for p in refunds[0].payments)
        assert refunds[0].grand_total == -plain[0].grand_total
        assert {p.mode_of_payment for p in refunds[1].payments} == {"Cash", "Credit Card"}
        assert x_report.returns_total == sum(r.grand_total for r in refunds)

        split_sale = next(s for s in sales if s.offline_id == split_id)
        assert {p.mode_of_payment for p in split_sale.payments} == {"Cash", "Credit Card"}
        assert any(i.discount_percentage == D(25) for i in split_sale.items)
        weighed = sales[1].items[0]
        assert weighed.qty == D("1.250")

        dana = session.scalar(select(Customer).where(Customer.customer_name == "Dana Offline"))
        assert dana is not None and dana.sync_state is CustomerSyncState.PENDING
        assert dana.billing_state == "Ontario" and dana.mobile_no == "6045550100"
        assert any(s.customer == dana.name for s in sales)

        closing = session.scalar(select(PosClosingEntry))
        assert closing is not None
        details = {d.mode_of_payment: d for d in closing.payment_reconciliation}
        assert details["Cash"].closing_amount == details["Cash"].expected_amount - 1

        overrides = session.scalars(
            select(JournalEntry).where(JournalEntry.kind == "override")
        ).all()
        actions = [json.loads(e.data)["action"] for e in overrides]
        assert actions == ["line_discount", "return", "return", "no_sale"]
        assert all(e.actor == "bo@example.com" for e in overrides)
        assert json.loads(overrides[0].data)["reason"] == "damaged box"

        outbox = session.scalars(select(OutboxEntry)).all()
        kinds = sorted({e.doctype for e in outbox})
        assert kinds == ["Customer", "POS Closing Entry", "POS Invoice", "POS Opening Entry"]
        assert check_database(session) == []
        assert verify(session).intact

    # -- receipts: one file per sale, saying what was sold and paid ------------------------------
    receipts = sorted((data_dir / "receipts").glob("DEMO1-*.txt"))
    assert len(receipts) == 22
    text_1 = (data_dir / "receipts" / f"{first_receipt}.txt").read_text()
    assert first_receipt in text_1 and "RECEIPT" in text_1
    assert f"{plain[0].grand_total:.2f}" in text_1
    assert list((data_dir / "receipts").glob("Z-*.txt"))
    assert len(devices.drawer_openings) >= 10


@run_async
async def test_a_printer_failure_keeps_the_sale_and_offers_a_reprint(
    counter: Any, backend: Backend, devices: StandInPeripherals, data_dir: Path
) -> None:
    backend.call(Counter.open_shift, "ana@example.com", {"Cash": D(100)})
    devices.fail_printer = True
    async with counter() as (app, pilot):
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        sell = sell_screen(app)
        await wedge_scan(pilot, shelf_barcodes(backend, 1)[0])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, PayScreen))
        screen = app.screen
        assert isinstance(screen, PayScreen)
        await pilot.press("f7")
        message = screen.query_one("#pay-message", Static)
        await until(pilot, lambda: "not printed" in str(message.render()))
        assert screen.result is not None and not screen.result.printed
        with backend.counter.read() as session:  # committed, whatever the printer did
            assert session.scalar(select(PosInvoice.receipt_no)) == screen.result.receipt_no
        devices.fail_printer = False
        await pilot.press("f12")
        await until(pilot, lambda: screen.result is not None and screen.result.printed)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
    assert (data_dir / "receipts" / "DEMO1-000001.txt").exists()

"""The sale's details in the real app (issue 19 item 7 and the coupon at the counter): a case
instead of a piece, who sold it, a note, a coupon typed at the counter (and a supervisor for
its last use); what is committed is what the cashier saw."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

from sqlalchemy import select
from textual.widgets import Static

from appliance.demo.masters import SALES_PEOPLE, ean13
from appliance.store.db import unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.models import OutboxEntry
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog
from appliance.tui.screens.sell import MENU, SALE_MENU, SellScreen
from appliance.tui.widgets.cart_table import CartTable
from appliance.tui.widgets.totals_panel import TotalsPanel
from tests.shared import box_item, coupon_docs

from .conftest import run_async, start_selling, until, wedge_scan
from .test_day import answer, approve, menu, pay, sell_screen


def _coupons(backend: Backend, **maximum_use: int) -> None:
    """The 10 % coupon rule with one coupon per keyword (its name and code), as pulled."""
    coupons = [
        {"name": n, "coupon_code": n, "maximum_use": uses} for n, uses in maximum_use.items()
    ]
    with unit_of_work(backend.counter.write) as uow:
        apply_masters(uow.session, coupon_docs(*coupons))
        uow.commit()


def _box_barcode(backend: Backend) -> str:
    """The piece barcode of an item the demo also sells by the Box of 12."""
    with backend.counter.read() as session:
        code = box_item(session)
    return ean13(f"06{int(code.split('-')[1]):010d}")


async def _one_box_item(app: Any, pilot: Any, backend: Backend) -> SellScreen:
    """Signed in, shift open, one piece of a Box item scanned."""
    await start_selling(app, pilot)
    sell = sell_screen(app)
    await wedge_scan(pilot, _box_barcode(backend))
    await until(pilot, lambda: len(sell.cart.lines) == 1)
    return sell


async def sale_menu(app: Any, pilot: Any, entry: str) -> None:
    """F12, "This sale...", then ``entry`` of that menu."""
    await menu(app, pilot, MENU[[m[1] for m in MENU].index("sale_details")][0])
    await until(
        pilot,
        lambda: isinstance(app.screen, ChoiceDialog) and app.screen.title_text == "This sale",
    )
    await pilot.press(*["down"] * [m[0] for m in SALE_MENU].index(entry), "enter")


def _said(app: Any) -> str:
    return str(sell_screen(app).query_one("#message", Static).render())


def _last_body(backend: Backend) -> dict[str, Any]:
    with backend.counter.read() as session:
        payload = session.scalars(select(OutboxEntry.payload).order_by(OutboxEntry.id)).all()
    body: dict[str, Any] = json.loads(payload[-1])
    return body


@run_async
async def test_a_case_a_sales_person_a_note_and_a_coupon_reach_the_sale(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    _coupons(backend, SPRING10=5)
    async with counter() as (app, pilot):
        sell = await _one_box_item(app, pilot, backend)
        piece = sell.cart.lines[0].base_rate

        await sale_menu(app, pilot, "Unit of the line (case, pack)")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")  # the Box, after the stock unit
        await until(pilot, lambda: sell.cart.lines[0].uom == "Box")
        assert sell.cart.lines[0].base_rate == piece * 12
        assert "/Box" in str(sell.query_one(CartTable).get_row_at(0)[0])
        assert "1 Box x" in _said(app), _said(app)

        await sale_menu(app, pilot, "Sales person")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")  # (nobody) first, then the people by name
        await until(pilot, lambda: sell.cart.sales_person is not None)
        assert sell.cart.sales_person == sorted(SALES_PEOPLE)[0]
        assert f"By {sorted(SALES_PEOPLE)[0]}" in str(sell.query_one(TotalsPanel).render_line(1))

        await sale_menu(app, pilot, "Note on the sale")
        await answer(app, pilot, "Gift wrap")
        await until(pilot, lambda: sell.cart.note == "Gift wrap")

        await sale_menu(app, pilot, "Coupon code")
        await answer(app, pilot, "nope")
        await until(pilot, lambda: "not known to this till" in _said(app))
        assert sell.cart.coupon_code is None
        before = sell.cart.amount_due
        await sale_menu(app, pilot, "Coupon code")
        await answer(app, pilot, "spring10")
        await until(pilot, lambda: sell.cart.coupon_code == "SPRING10")
        assert "Coupon SPRING10 applied" in _said(app)
        assert sell.cart.amount_due < before and sell.cart.lines[0].discount_percentage == 10

        await pay(app, pilot, "f7")
    body = _last_body(backend)
    assert body["coupon_code"] == "SPRING10"
    assert body["sales_team"] == [
        {"sales_person": sorted(SALES_PEOPLE)[0], "allocated_percentage": 100}
    ]
    assert body["remarks"].startswith("Gift wrap\n")
    (row,) = body["items"]
    assert (row["uom"], row["conversion_factor"]) == ("Box", 12)
    assert D(str(row["price_list_rate"])) == piece * 12


@run_async
async def test_a_coupons_last_use_is_taken_only_with_a_supervisor(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    _coupons(backend, ONCE=1)
    async with counter() as (app, pilot):
        sell = await _one_box_item(app, pilot, backend)
        await sale_menu(app, pilot, "Coupon code")
        await answer(app, pilot, "ONCE")
        await approve(app, pilot, "regular customer")
        await until(pilot, lambda: sell.cart.coupon_code == "ONCE")
        assert sell.cart.coupon_approved_by == "bo@example.com"
        await pay(app, pilot, "f7")
    assert "approved by bo@example.com" in _last_body(backend)["remarks"]

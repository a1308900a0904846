"""The sale's details in the real app (issue 19 item 7): a case instead of a piece, who sold
it, a note; what is committed is what the cashier saw."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

from sqlalchemy import select, text
from textual.widgets import Static

from appliance.demo.masters import SALES_PEOPLE, ean13
from appliance.store.models import OutboxEntry
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog
from appliance.tui.widgets.cart_table import CartTable
from appliance.tui.widgets.totals_panel import TotalsPanel

from .conftest import run_async, start_selling, until, wedge_scan
from .test_day import answer, menu, pay, sell_screen


def _box_barcode(backend: Backend) -> str:
    """The piece barcode of an item the demo also sells by the Box of 12."""
    with backend.counter.read() as session:
        code = session.execute(
            text(
                "SELECT u.parent FROM uom_conversion_details u JOIN items i "
                "ON i.item_code = u.parent WHERE u.uom = 'Box' AND i.is_weighed = 0 "
                # no demo promotion on it: a coupon's discount is the coupon's
                "AND i.item_group NOT IN ('Dairy', 'Beverages') "
                "AND coalesce(i.brand, '') != 'Kestrel' "
                "ORDER BY u.parent LIMIT 1"
            )
        ).scalar_one()
    return ean13(f"06{int(code.split('-')[1]):010d}")


def _said(app: Any) -> str:
    return str(sell_screen(app).query_one("#message", Static).render())


def _last_body(backend: Backend) -> dict[str, Any]:
    with backend.counter.read() as session:
        payload = session.scalars(select(OutboxEntry.payload).order_by(OutboxEntry.id)).all()
    body: dict[str, Any] = json.loads(payload[-1])
    return body


@run_async
async def test_a_case_a_sales_person_and_a_note_reach_the_sale(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await wedge_scan(pilot, _box_barcode(backend))
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        piece = sell.cart.lines[0].base_rate

        await menu(app, pilot, "Unit of the line (case, pack)")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")  # the Box, after the stock unit
        await until(pilot, lambda: sell.cart.lines[0].uom == "Box")
        assert sell.cart.lines[0].base_rate == piece * 12
        assert "/Box" in str(sell.query_one(CartTable).get_row_at(0)[0])
        assert "1 Box x" in _said(app), _said(app)

        await menu(app, pilot, "Sales person")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")  # (nobody) first, then the people by name
        await until(pilot, lambda: sell.cart.sales_person is not None)
        assert sell.cart.sales_person == sorted(SALES_PEOPLE)[0]
        assert f"By {sorted(SALES_PEOPLE)[0]}" in str(sell.query_one(TotalsPanel).render_line(1))

        await menu(app, pilot, "Note on the sale")
        await answer(app, pilot, "Gift wrap")
        await until(pilot, lambda: sell.cart.note == "Gift wrap")

        await pay(app, pilot, "f7")
    body = _last_body(backend)
    assert body["sales_team"] == [
        {"sales_person": sorted(SALES_PEOPLE)[0], "allocated_percentage": 100}
    ]
    assert body["remarks"].startswith("Gift wrap\n")
    (row,) = body["items"]
    assert (row["uom"], row["conversion_factor"]) == ("Box", 12)
    assert D(str(row["price_list_rate"])) == piece * 12

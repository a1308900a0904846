"""Serial numbers and batches in the real app (issue 19 item 6): a drill is not sold without
the serial scanned from it, paint not without its batch; a wrong serial is said and asked
again; backing out takes the line off."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from textual.widgets import Static

from appliance.demo.masters import BATCHES, SERIALS, ean13, numbered_docs
from appliance.store.db import unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.models import OutboxEntry
from appliance.tui.backend import Backend
from appliance.tui.screens.dialogs import ChoiceDialog, PromptDialog

from .conftest import run_async, start_selling, until, wedge_scan
from .test_day import answer, pay, sell_screen

DRILL, PAINT = ean13("089000000001"), ean13("089000000002")


@run_async
async def test_a_drill_needs_its_serial_and_paint_its_batch(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    with unit_of_work(backend.counter.write) as uow:
        apply_masters(uow.session, numbered_docs())
        uow.commit()
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)

        await wedge_scan(pilot, DRILL)
        await answer(app, pilot, "DRL-9999")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))  # asked again
        said = str(sell.query_one("#message", Static).render())
        assert "DRL-9999 is not a serial number of Cordless Drill" in said, said
        await answer(app, pilot, SERIALS[3])
        await until(
            pilot, lambda: bool(sell.cart.lines) and sell.cart.lines[0].serial_no == SERIALS[3]
        )

        await wedge_scan(pilot, PAINT)
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.press("down", "enter")
        await until(pilot, lambda: len(sell.cart.lines) == 2 and bool(sell.cart.lines[1].batch_no))
        assert sell.cart.lines[1].batch_no == BATCHES[1]

        await wedge_scan(pilot, DRILL)  # a second drill, then the cashier backs out
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press("escape")
        await until(pilot, lambda: len(sell.cart.lines) == 2)
        said = str(sell.query_one("#message", Static).render())
        assert "Cordless Drill taken off" in said, said

        await pay(app, pilot, "f7")
    with backend.counter.read() as session:
        payload = session.scalars(select(OutboxEntry.payload).order_by(OutboxEntry.id)).all()
    body: dict[str, Any] = json.loads(payload[-1])
    drill, paint = body["items"]
    assert (drill["serial_no"], paint["batch_no"]) == (SERIALS[3], BATCHES[1])

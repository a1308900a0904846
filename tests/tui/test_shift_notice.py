"""The cashier sees when ERPNext holds the shift, in words to act on and whom to call: a closing
ERPNext failed to consolidate, an opening ERPNext 16 refused. The state is written by the agent's
own code (:class:`appliance.agent.shifts.ShiftWatch`) into the till's real store."""

from __future__ import annotations

from appliance.agent.ledger import Job
from appliance.agent.shifts import ShiftWatch
from appliance.tui.backend import Backend

from .conftest import run_async, status_bar, until

CLOSING = Job(1, "POS Closing Entry", "c0ffee00-close", {}, 0)
OPENING = Job(2, "POS Opening Entry", "c0ffee00-open", {"pos_profile": "Main POS"}, 0)


@run_async
async def test_a_failed_closing_shows_on_the_bar_until_it_is_consolidated(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    watch = ShiftWatch(backend.counter.read, backend.counter.write)
    failed = {"name": "POS-CLO-2026-00009", "status": "Failed", "error_message": "Debit and Credit"}
    watch.closing_answered(CLOSING.offline_id, failed["name"], failed)
    async with counter(status_every=0.2) as (app, pilot):
        await until(pilot, lambda: "SHIFT CLOSE FAILED in ERPNext: call IT" in status_bar(app))
        watch._settle({}, {**failed, "status": "Submitted", "error_message": ""})
        await until(pilot, lambda: "FAILED" not in status_bar(app))


@run_async
async def test_a_refused_opening_shows_on_the_bar_until_one_is_accepted(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    watch = ShiftWatch(backend.counter.read, backend.counter.write)
    said = (
        "<strong>Main POS</strong> is open. Close the POS or cancel the existing POS Opening Entry"
    )
    watch.document_refused(OPENING, "profile", said, {"pos_profile": "Main POS", "user": "till1"})
    async with counter(status_every=0.2) as (app, pilot):
        await until(pilot, lambda: "SHIFT REFUSED by ERPNext: call IT" in status_bar(app))
        watch.document_accepted(OPENING)
        await until(pilot, lambda: "REFUSED by ERPNext" not in status_bar(app))

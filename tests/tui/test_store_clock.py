"""The real app says every time in the store's zone (America/Vancouver in the demo), never the
machine's UTC: held-sale labels, "Opened"/"Printed" on the X report, the sync time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.tui.backend import Backend

from .conftest import run_async, start_selling, until, wedge_scan
from .test_day import sell_screen, shelf_barcodes


def _minutes(moment: datetime) -> set[str]:
    """The HH:MM of ``moment`` and of the minute after (a minute may turn during the test)."""
    return {f"{moment:%H:%M}", f"{moment + timedelta(minutes=1):%H:%M}"}


@run_async
async def test_held_labels_and_reports_are_in_store_time(  # type: ignore[no-untyped-def]
    counter, backend: Backend
) -> None:
    store_now = backend.counter.checkout.clock()
    utc_now = datetime.now(UTC)
    assert f"{store_now:%H:%M}" != f"{utc_now:%H:%M}"  # the demo store is 7-8 hours behind UTC
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        sell = sell_screen(app)
        await wedge_scan(pilot, shelf_barcodes(backend, 1)[0])
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        await pilot.press("f6")
        await until(pilot, lambda: len(sell.counter.held) == 1)
        label = sell.counter.held[0].label
        assert label[:5] in _minutes(store_now), label
        assert label[:5] not in _minutes(utc_now.replace(tzinfo=None)), label

    counter_ = backend.counter
    report = counter_.printed_report(counter_.shift_totals(), "ana@example.com", closing=False)
    assert f"{report.printed_at:%H:%M}" in _minutes(store_now)
    assert report.printed_at - report.opened_at < timedelta(minutes=5)  # one clock for both

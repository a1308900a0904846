"""Full collections are the till's once a cashier sells, and CPython's again when it ends."""

from __future__ import annotations

import gc

from appliance.tui import heap

from .conftest import run_async, start_selling


@run_async
async def test_selling_freezes_the_heap_and_the_end_gives_collections_back(counter) -> None:  # type: ignore[no-untyped-def]
    async with counter() as (app, pilot):
        await start_selling(app, pilot)
        await pilot.pause(0.2)
        assert gc.get_freeze_count() > 10_000  # the store, the screens: never walked again
        assert gc.get_threshold()[2] == heap.NEVER
        gc.collect(1)  # a middle-generation collection: the count of them goes up by one
        while gc.get_count()[2] < heap.FULL_EVERY:
            gc.collect(1)
        heap.collect_if_due()
        assert gc.get_count()[2] == 0
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[2] == heap.FULL_EVERY

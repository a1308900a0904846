"""A stored sale's receipt printed again: from the pay screen, the sell screen's menu and the
receipt journal alike."""

from __future__ import annotations

import asyncio

from appliance.counter.door import Counter
from appliance.tui.context import Context


async def reprint(ctx: Context, offline_id: str, *, copy: bool = True) -> tuple[str, bool]:
    """Print the sale's receipt again, marked COPY (``copy`` False: its first print failed, so
    this one is the original). What to tell the cashier, and whether it is a failure: a device
    failure is said, never fatal; the store's own failures are the app's (`CounterScreen`)."""
    receipt = await ctx.backend.run(Counter.receipt, offline_id, reprint=copy)
    try:
        await asyncio.to_thread(ctx.devices.print_receipt, receipt)
    except Exception as exc:  # any device failure is shown, never fatal
        return f"Reprint failed: {exc}", True
    return f"Reprinted {receipt.receipt_no}{' (COPY)' if copy else ''}", False

"""What follows a saved sale or refund, written once for both: the drawer, then the receipt.

The counter's commit (`Counter.commit`) says what the hardware needs (`SaleDone`: the
receipt, whether the drawer opens); this makes one device call for each. The drawer journals
its own opening (its ``on_opening`` hook, wired by the app). A device that fails never undoes
the sale: the problems come back in words for the cashier.
"""

from __future__ import annotations

import asyncio

from appliance.counter.selling import SaleDone
from appliance.drivers.peripherals import Peripherals


async def hand_over(devices: Peripherals, done: SaleDone) -> list[str]:
    """Open the drawer if cash changed hands, then print the receipt; what went wrong, if any."""
    problems: list[str] = []
    if done.open_drawer:
        try:
            await asyncio.to_thread(devices.open_drawer, done.drawer_reason, done.offline_id)
        except Exception as exc:  # a device failure never undoes the sale
            problems.append(f"drawer: {exc}")
    try:
        if done.receipt is None:
            raise LookupError(done.receipt_problem or "no receipt")
        await asyncio.to_thread(devices.print_receipt, done.receipt)
    except Exception as exc:
        problems.append(f"receipt not printed ({exc}); F12 reprints")
    return problems

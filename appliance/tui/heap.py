"""When the till collects its cyclic garbage: never in the middle of a scan if it can help it.

Measured in `make bench` (scan-to-line in the real app, 100,000-item store): the till holds
some 200,000 long-lived objects once a cashier is selling (SQLAlchemy and its mappers, the
store's session, the screens, Textual's caches), and every scan leaves cyclic garbage behind.
CPython's full (oldest-generation) collection walked all of it every few sales, wherever it
fell: 100-170 ms of CPU, mostly in the middle of a scan, the p99 of scan-to-line.

So, once the sale screen is up (`settle`): what is alive then is frozen (never walked again),
and the automatic full collection is off. The till runs it itself, when it is due (as often as
CPython would), at moments nobody is scanning (`collect_if_due`): a sale just saved (the
payment screen takes no scans) and a second without a key. Young generations are collected
automatically as before: they are small and quick.
"""

from __future__ import annotations

import gc

# CPython's default: a full collection after this many collections of the middle generation.
FULL_EVERY = 10
# The automatic full collection, in effect never (counted in middle-generation collections).
NEVER = 1 << 30


def settle() -> None:
    """Freeze what is alive now, after collecting the cashier before's screens (a sign-out
    drops them, cycles and all: frozen, they would never be freed); full collections are
    the till's from now on."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)


def collect_if_due() -> None:
    """The full collection CPython would have run by now, if it is due."""
    if gc.get_count()[2] >= FULL_EVERY:
        gc.collect()


def release() -> None:
    """The app is ending: CPython's own collections again (tests run many apps in a process)."""
    gc.unfreeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_EVERY)

"""The store's thread: the screens' counter calls run on it, one after the other, off the
screen's thread.

SQLite sessions are not shared between threads, and the counter's read session is long-lived,
so every call runs on a single worker thread while the Textual loop keeps drawing and taking
keys. Screens ask the counter (`appliance.counter.door.Counter`) through ``run``:
``await backend.run(Counter.commit, cart, user)``. Everything a till does lives in the counter;
this module only starts the thread, runs calls on it and closes it.

Cold start: this module loads neither SQLAlchemy nor the store, so the sign-in screen is up
before them. `Backend.start` opens the store on that same thread (the imports included) while
the cashier keys a PIN; every call waits for the store to be open and fails if it could not
be. The start-up checks (`counter.readiness`) and the sign-in list (`read_cashiers`) read the
file with ``sqlite3`` alone.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from appliance import paths
from appliance.config import Config
from appliance.counter.cashier import CashierCard

if TYPE_CHECKING:
    from appliance.counter.door import Counter

T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class Backend:
    cfg: Config
    db: Path
    # Who the sign-in screen lists until the store is open (`read_cashiers`); `open` reads
    # them again, with the same query.
    cashiers: list[CashierCard] = field(default_factory=list)
    counter: Counter = field(init=False)
    _pool: ThreadPoolExecutor = field(init=False)
    _opened: Future[None] | None = field(init=False, default=None)
    _starting: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pos-db")

    def start(self) -> Future[None]:
        """Open the store on the backend's thread, once (later calls return the same future).

        Every `run` and `call` queues behind it on that one thread: a PIN keyed while the store
        opens is checked, in turn, once it is open, and fails with the store's error if it
        could not be opened.
        """
        with self._starting:
            if self._opened is None:
                self._opened = self._pool.submit(self.open)
            return self._opened

    @property
    def open_error(self) -> BaseException | None:
        """Why the store could not be opened (None while opening, once open, or not started)."""
        opened = self._opened
        if opened is None or not opened.done():
            return None
        return opened.exception()

    def _when_open(
        self, fn: Callable[Concatenate[Counter, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        opened = self.start()
        opened.result()  # done: it ran first on this thread; raises if the store did not open
        return fn(self.counter, *args, **kwargs)

    async def run(
        self, fn: Callable[Concatenate[Counter, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(counter, *args, **kwargs)`` on the store's thread, awaited from the screen's."""
        self.start()
        loop = asyncio.get_running_loop()
        job: Callable[[], T] = partial(self._when_open, fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool, job)

    def call(
        self, fn: Callable[Concatenate[Counter, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """The same thread, waited for synchronously (start-up, drivers' threads, tests)."""
        self.start()
        job: Callable[[], T] = partial(self._when_open, fn, *args, **kwargs)
        return self._pool.submit(job).result()

    def open(self) -> None:
        """Connect and load the counter (raises StoreNotReadyError naming what is missing).

        Loads SQLAlchemy and the store: run it on the backend's thread (`start`).
        """
        from appliance.counter.checkout import CounterSetup
        from appliance.counter.door import open_counter

        setup = CounterSetup(
            self.cfg.terminal.id,
            self.cfg.pos_profile,
            self.cfg.scan,
            self.cfg.terminal.store_credit_modes,
        )
        self.counter = open_counter(self.db, setup)
        self.cashiers = self.counter.list_cashiers()

    def close(self) -> None:
        def _close() -> None:
            if hasattr(self, "counter"):
                self.counter.close()

        self._pool.submit(_close).result()
        self._pool.shutdown(wait=True)


def open_backend(cfg: Config, db: Path | None = None) -> Backend:
    """A backend on the configured database, opened on its own thread."""
    backend = Backend(cfg, db or paths.db_path())
    try:
        backend.start().result()
    except Exception:  # StoreNotReadyError, or the file is no store at all
        backend.close()
        raise
    return backend


__all__ = ["Backend", "open_backend"]

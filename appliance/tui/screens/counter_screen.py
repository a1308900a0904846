"""Screens whose background work can never end the till.

A screen's async workers (a commit, a search, a receipt) wait on the store or a device, and the
cashier keeps pressing keys meanwhile: by the time a worker wakes up its screen may be gone
(Enter pressed for the next customer), and the store may have failed (a full disk, a database
another program holds). Textual ends the whole app when a worker raises. Here:

- a widget that is no longer there because its screen was dismissed is nothing to draw on: the
  worker stops quietly (anything still owed, like a receipt, runs on the app: `run_on_app`);
- a store or disk failure the screen did not handle itself is the app's (`PosApp`): a notice,
  never an exit;
- anything else is a bug, and still ends the app (systemd restarts it; tests see it).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any, TypeVar, cast

from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Static
from textual.worker import Worker, WorkType

R = TypeVar("R")
T = TypeVar("T")


class CounterScreen(Screen[R]):
    @property
    def gone(self) -> bool:
        """Dismissed (or popped on sign-out): its widgets are being, or have been, removed."""
        return self not in self.app.screen_stack

    def tell(self, selector: str, text: str, *, error: bool = False) -> None:
        """Show ``text`` on this screen's message line; once the screen is gone, a problem
        becomes a notice on whatever screen is up (the cashier still has to hear of it)."""
        if error:
            self.app.bell()
        if self.gone:
            if error:
                self.app.notify(text, severity="error", timeout=10)
            return
        line = self.query_one(selector, Static)
        line.update(text)
        line.set_class(error, "error")

    def run_worker(  # noqa: PLR0917 - Textual's own signature, kept as it is
        self,
        work: WorkType[T],
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[T]:
        if not thread and _is_async(work):
            # A worker whose screen is gone returns None: nobody waits for its result then.
            coroutine = cast("Callable[[], Coroutine[Any, Any, T]]", work)
            work = cast("WorkType[T]", self._guarded(coroutine))
        return super().run_worker(
            work,
            name=name,
            group=group,
            description=description,
            exit_on_error=exit_on_error,
            start=start,
            exclusive=exclusive,
            thread=thread,
        )

    def _guarded(
        self, work: Callable[[], Coroutine[Any, Any, T]]
    ) -> Callable[[], Coroutine[Any, Any, T | None]]:
        @wraps(work)
        async def guarded() -> T | None:
            try:
                return await work()
            except NoMatches:
                if self.gone:
                    return None
                raise

        return guarded

    def run_on_app(self, work: Coroutine[Any, Any, None], group: str) -> None:
        """Work this screen starts that must finish even if the screen is dismissed first
        (a screen's workers are cancelled with it): the drawer and receipt of a saved sale."""
        self.app.run_worker(work, group=group)


class CounterModal(CounterScreen[R], ModalScreen[R]):
    """A dialog with the same guarded workers."""


def _is_async(work: object) -> bool:
    return iscoroutinefunction(work) or iscoroutinefunction(getattr(work, "func", None))

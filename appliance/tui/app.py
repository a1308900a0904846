"""The counter app: wires screens, keys and timers together. It computes nothing itself.

- Routing: sign-in -> (open shift) -> sell; lock pushes the sign-in screen over the sale.
- Lock-down: no key combination leaves the app (Ctrl+C/Q/Z/\\ are swallowed); only a
  supervisor's shut-down (`ShutDown`) ends it.
- The keyboard-wedge scanner is told from typing at the App level, before any widget sees a
  key (`appliance.tui.wedge`), so a scan never lands in whatever input has focus. Screens that
  take scans (sell, returns) get them as `Scanned`; every other screen, dialogs included,
  refuses one with a notice.
- Inactivity locks the till after ``lock_seconds`` without a key.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message
from textual.worker import WorkerFailed

from appliance.counter.clock import store_time
from appliance.drivers.peripherals import DrawerOpening, PrintNotice
from appliance.provision_status import refusal
from appliance.tui import heap
from appliance.tui.console_glyphs import console_driver
from appliance.tui.context import Context
from appliance.tui.failures import environmental, failure
from appliance.tui.messages import LockNow, Scanned, ShiftChanged, ShutDown, SignedIn, SignOut
from appliance.tui.screens.sign_in import SignInScreen
from appliance.tui.wedge import MAX_GAP, Release, Scan, WedgeDetector
from appliance.tui.widgets.status_bar import StatusBar, StatusLine

if TYPE_CHECKING:
    from appliance.tui.screens.sell import SellScreen

# Keys that end or suspend a terminal program elsewhere: here they do nothing at all.
SWALLOWED = "ctrl+c,ctrl+q,ctrl+z,ctrl+backslash,ctrl+p"
# What a screen that takes no scans says to one (a screen may say it better: `scan_refusal`).
SCAN_REFUSED = "Finish or close this dialog first - scan not added"


class _WedgeTick(Message):
    """A pause after held keys: give them back if no Enter came."""


class _DevicesChanged(Message):
    """A device went on- or offline: redraw the status bar now, not at the next tick."""


class _Printed(Message):
    """News of a document already handed to the printer (held up, refused, out after all)."""

    def __init__(self, notice: PrintNotice) -> None:
        super().__init__()
        self.notice = notice


class _DeviceScan(Message):
    """A code from a serial or HID scanner (the drivers read it, not the keyboard)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


def resume_gc() -> None:
    """Once the first screen is painted: the cyclic GC back on, if start-up turned it off.

    `appliance tui` imports and builds its first screen with the collector off (`cli._tui`):
    start-up creates only objects that live for the whole run, and collecting them over and over
    costs ~15 % of the start-up CPU, seconds on a small till. Frozen, they are never scanned
    again: later collections (between scans) only look at what the till made since.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


class LockedDownApp(App[None]):
    """Base for the till's apps: no key quits, suspends or opens a command palette."""

    # Absolute: Textual reads a relative path next to each subclass's own module.
    CSS_PATH = str(Path(__file__).with_name("pos.tcss"))
    ENABLE_COMMAND_PALETTE = False
    inherit_bindings: ClassVar[bool] = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(SWALLOWED, "swallow", show=False, priority=True, system=True)
    ]

    def __init__(self) -> None:
        super().__init__()
        self.allow_exit = False
        if os.environ.get("TERM") == "linux":
            self.theme = "ansi-dark"

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        if os.environ.get("TERM") == "linux" and driver is LinuxDriver and sys.__stderr__:
            # Textual draws on stderr: the console's font decides what it may draw.
            return console_driver(sys.__stderr__.fileno())
        return driver

    def on_mount(self) -> None:
        self.call_after_refresh(resume_gc)

    def action_swallow(self) -> None:
        """Ctrl+C and friends: deliberately nothing."""

    async def action_quit(self) -> None:
        if self.allow_exit:
            self.exit()

    def action_help_quit(self) -> None:
        """Textual's "press Ctrl+Q to quit" hint: not on a till."""

    def action_suspend_process(self) -> None:
        """Never suspend (Ctrl+Z)."""


class PosApp(LockedDownApp):
    def __init__(self, ctx: Context, lock_seconds: float = 120, status_every: float = 2.0) -> None:
        super().__init__()
        self.ctx = ctx
        self.lock_seconds = lock_seconds
        self.status_every = status_every
        self.wedge: WedgeDetector[events.Key] = WedgeDetector()
        self._wedge_check_pending = False
        self.last_activity = time.monotonic()
        self.sell_screen: SellScreen | None = None
        self.status_line = StatusLine()

    # -- start --------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(SignInScreen(self.ctx))
        self.ctx.devices.watch(
            self._devices_changed, self._device_scan, self._printed, self._drawer_opened
        )
        self.set_interval(1.0, self.check_inactivity)
        self.set_interval(self.status_every, self.refresh_status)
        # The store (SQLAlchemy and all) loads once sign-in is on screen, not before it.
        self.call_after_refresh(self._open_store)

    def on_unmount(self) -> None:
        heap.release()

    @work(group="store")
    async def _open_store(self) -> None:
        """Open the store while the cashier keys a PIN (which waits for it, if need be)."""
        try:
            await asyncio.wrap_future(self.ctx.backend.start())
        except Exception:  # `run_counter` says why (`Backend.open_error`)
            self.exit(return_code=1)
            return
        await self._learn_facts()
        self.refresh_status()

    async def _learn_facts(self) -> None:
        """The till's facts as data for the screens (profile, modes, cashiers): at open and at
        each sign-in, so a profile the agent pulled meanwhile is what the next cashier sees."""
        # Lambdas, not `Counter.facts`: the counter's module loads behind the sign-in screen.
        self.ctx.facts = await self.ctx.backend.run(lambda counter: counter.facts())

    def _handle_exception(self, error: Exception) -> None:
        """A worker the store or the disk failed under: a notice, never the end of the till.

        Textual ends the app on any worker's exception (this method is where it does). The
        counter's screens handle a failed save themselves and keep the cart; this is the net
        for every other worker (a journal entry, an approval, a shift) on a full disk or a
        database another program holds. Anything else is a bug and still ends the app.
        """
        cause = error.error if isinstance(error, WorkerFailed) else error
        if not environmental(cause):
            super()._handle_exception(error)
            return
        problem = failure(cause)
        self.bell()
        self.notify(
            f"Not done: {problem.why}. {problem.remedy.capitalize()}, then try again.",
            title="The till could not do that",
            severity="error",
            timeout=15,
        )

    # -- devices ------------------------------------------------------------------------------
    # Called on driver threads. `post_message` is thread-safe and never waits: unlike
    # `call_from_thread`, it cannot block a driver thread on an app that is shutting down.
    def _devices_changed(self) -> None:
        self.post_message(_DevicesChanged())

    def _device_scan(self, code: str) -> None:
        self.post_message(_DeviceScan(code))

    def _printed(self, notice: PrintNotice) -> None:
        self.post_message(_Printed(notice))

    def _drawer_opened(self, opening: DrawerOpening) -> None:
        """The drawer's own hook, on the thread that kicked it: journal the opening, once.

        Waits for the journal entry, so a drawer whose opening could not be recorded says so
        (the screen that opened it shows the failure).
        """
        actor = self.ctx.user
        self.ctx.backend.call(
            lambda counter: counter.drawer_opened(
                actor, opening.reason, opening.ref or None, opening.device
            )
        )

    def on__devices_changed(self, message: _DevicesChanged) -> None:
        self.refresh_status()

    def on__printed(self, message: _Printed) -> None:
        """Whatever screen is up: the sale is saved, but the customer may be owed a receipt."""
        notice = message.notice
        problem = notice.waiting or notice.failed
        if problem:
            self.bell()
        self.notify(
            notice.text,
            title="Receipt printer",
            severity="error" if problem else "information",
            timeout=10 if problem else 4,
        )
        self.refresh_status()

    def on__device_scan(self, message: _DeviceScan) -> None:
        self.take_scan(message.code)

    # -- scans --------------------------------------------------------------------------------
    def take_scan(self, code: str) -> None:
        """A scan goes to a screen that takes scans (sell, returns), or is refused out loud.

        Never into whatever input has focus: 13 digits and an Enter in a price, quantity,
        PIN or tender box would be a wrong sale, or a lock-out, that nobody typed.
        """
        self.last_activity = time.monotonic()
        screen = self.screen
        if getattr(screen, "accepts_scans", False):
            screen.post_message(Scanned(code))
            return
        self.bell()
        refusal = getattr(screen, "scan_refusal", SCAN_REFUSED)
        self.notify(refusal, title="Scan not added", severity="warning", timeout=4)

    # -- keys: wedge scanner and activity ------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self.last_activity = time.monotonic()
        if isinstance(event, events.Key) and not event.is_forwarded:
            # On every screen, dialogs included: a scan must be told from typing everywhere.
            await self._wedge_key(event)
            return
        await super().on_event(event)

    async def _wedge_key(self, event: events.Key) -> None:
        char = event.character
        now = time.monotonic()
        if char is not None and len(char) == 1 and event.is_printable and not char.isspace():
            released = self.wedge.printable(event, char, now)
            if released is not None:
                await self._give_back(released)
            # One pending check for the whole burst, not a timer per key: 13 timers a scan
            # (tasks, messages) were CPU spent while the next scan came in.
            if not self._wedge_check_pending:
                self._wedge_check_pending = True
                self.set_timer(MAX_GAP * 2, lambda: self.post_message(_WedgeTick()))
            return
        if event.key == "enter" and self.wedge.holding:
            outcome = self.wedge.enter(now)
            if isinstance(outcome, Scan):
                self.take_scan(outcome.code)
                return
            await self._give_back(outcome)
        elif self.wedge.holding:
            await self._give_back(self.wedge.other())
        await super().on_event(event)

    async def _give_back(self, released: Release[events.Key]) -> None:
        for key in released.events:
            await super().on_event(key)

    async def on__wedge_tick(self, _message: _WedgeTick) -> None:
        self._wedge_check_pending = False
        now = time.monotonic()
        released = self.wedge.tick(now)
        if released is not None:
            await self._give_back(released)
        elif self.wedge.holding:  # keys still coming: look again as long after the last one
            self._wedge_check_pending = True
            wait = max(0.001, self.wedge.last_key_at + MAX_GAP * 2 - now)
            self.set_timer(wait, lambda: self.post_message(_WedgeTick()))

    # -- routing ------------------------------------------------------------------------------
    @work(group="route")
    async def on_signed_in(self, message: SignedIn) -> None:
        if message.unlocked:
            self.pop_screen()
            self.show_status(locked=False)
            return
        self.ctx.cashier = message.cashier
        self.show_status(cashier=self._cashier_label(), locked=False)
        # The screens behind sign-in load on the first one, not at the till's cold start.
        from appliance.tui.screens.sell import SellScreen  # noqa: PLC0415
        from appliance.tui.screens.shift import OpenShiftScreen  # noqa: PLC0415

        backend = self.ctx.backend
        await self._learn_facts()
        shift_open = await backend.run(lambda counter: counter.shift_open())
        self.show_status(shift_open=shift_open)
        if not shift_open:
            opened = await self.push_screen_wait(OpenShiftScreen(self.ctx))
            if not opened:
                await self._sign_out("shift not opened")
                return
        cart = await backend.run(lambda counter: counter.new_cart())
        self.sell_screen = SellScreen(self.ctx, cart)
        await self.push_screen(self.sell_screen)
        self.refresh_status()
        self.call_after_refresh(heap.settle)

    @work(group="route")
    async def on_sign_out(self, _message: SignOut) -> None:
        await self._sign_out("sign out")

    async def _sign_out(self, reason: str) -> None:
        if self.ctx.cashier is not None:
            user = self.ctx.user
            await self.ctx.backend.run(lambda counter: counter.sign_out(user, reason))
        self.ctx.cashier = None
        self.sell_screen = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.show_status(cashier="", locked=False)
        self.refresh_status()

    def on_lock_now(self, _message: LockNow) -> None:
        self.lock()

    def lock(self) -> None:
        if self.ctx.cashier is None or isinstance(self.screen, SignInScreen):
            return
        self.push_screen(SignInScreen(self.ctx, locked_by=self.ctx.cashier))
        self.show_status(locked=True)

    def on_shift_changed(self, message: ShiftChanged) -> None:
        self.show_status(shift_open=message.open)
        self.refresh_status()

    @work(group="route")
    async def on_shut_down(self, message: ShutDown) -> None:
        supervisor = message.supervisor
        await self.ctx.backend.run(
            lambda counter: counter.sign_out(supervisor, "shut down by supervisor")
        )
        self.allow_exit = True
        self.exit()

    # -- timers -------------------------------------------------------------------------------
    def check_inactivity(self) -> None:
        idle = time.monotonic() - self.last_activity
        if idle >= self.lock_seconds:
            self.lock()
        elif idle >= 1.0:
            heap.collect_if_due()  # nobody is scanning: the moment for a full collection

    # -- status bar: screens tell the app (messages up), the app sets every bar (attributes down)
    def _cashier_label(self) -> str:
        cashier = self.ctx.cashier
        return f"{cashier.full_name}{'*' if cashier.supervises else ''}" if cashier else ""

    def show_status(self, **changes: Any) -> None:
        """Change what the status bars say now, on every screen in the stack (one may resume)."""
        line = replace(self.status_line, **changes)
        self.status_line = line
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.status = line

    @work(exclusive=True, group="status")
    async def refresh_status(self) -> None:
        """What only the store knows (shift, outbox, sync) and the devices' states.

        Exclusive: a refresh started before a change is cancelled by the one the change starts,
        so a stale read never overwrites what the bar was just told.
        """
        backend = self.ctx.backend
        status = await backend.run(lambda counter: counter.status())
        where = self.ctx.provisioning_status
        refused = await asyncio.to_thread(refusal, where) if where else ""
        self.show_status(
            provisioning=refused,
            cashier=self._cashier_label(),
            shift_open=status.shift_open,
            online=status.link == "up",
            sync_problem=status.problem,
            last_sync=f"sync {store_time(status.last_sync, self.ctx.facts.time_zone)}"
            if status.last_sync
            else "",
            unsynced=status.unsynced,
            quarantined=status.quarantined,
            devices=tuple(self.ctx.devices.states()),
        )

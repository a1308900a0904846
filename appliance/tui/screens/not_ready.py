"""A till that cannot sell yet: the app and screen saying what it needs, and what IT needs.

It is what an unprovisioned box shows on tty1 after its first boot, so it carries what the
person at the counter reads out to IT: the terminal's addresses, hostname and SSH host key
fingerprint. Addresses are looked up again every few seconds (DHCP may answer late), off the
screen's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from appliance.counter.readiness import Readiness
from appliance.tui.app import LockedDownApp
from appliance.tui.host_identity import SSH_HOST_KEY, HostIdentity, identify


class NotReadyScreen(Screen[None]):
    def __init__(
        self,
        needs: tuple[str, ...],
        *,
        host_key: Path = SSH_HOST_KEY,
        check_every: float = 5.0,
        look_every: float = 3.0,
    ) -> None:
        super().__init__(classes="not-ready")
        self.needs = needs
        self.host_key = host_key
        self.check_every = check_every
        self.look_every = look_every
        self.identity: HostIdentity | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="not-ready"):
            yield Static("This till cannot sell yet", id="not-ready-title")
            yield Static(self._needs_text(), id="needs")
            yield Static("For IT, to provision it with Ansible:", id="for-it")
            yield Static("Looking up this terminal's address...", id="host")
            yield Static(f"Checking again every {self.check_every:g} seconds.", id="checking")

    def on_mount(self) -> None:
        self.look()
        self.set_interval(self.look_every, self.look)

    def _needs_text(self) -> str:
        return "\n".join(f"{n}. {need}" for n, need in enumerate(self.needs, 1))

    def show_needs(self, needs: tuple[str, ...]) -> None:
        if needs != self.needs:
            self.needs = needs
            self.query_one("#needs", Static).update(self._needs_text())

    @work(exclusive=True, group="identity")
    async def look(self) -> None:
        identity = await asyncio.to_thread(identify, self.host_key)
        if identity == self.identity:
            return
        self.identity = identity
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for label, value in identity.lines():
            grid.add_row(label, value)
        self.query_one("#host", Static).update(grid)


class NotReadyApp(LockedDownApp):
    """Shown on a terminal that cannot sell yet; exits by itself once it can.

    It never exits otherwise: the kiosk unit would only start it again, and a till flickering
    through restarts tells the person in front of it nothing.
    """

    def __init__(
        self,
        first: Readiness,
        check: Callable[[], Readiness],
        *,
        host_key: Path = SSH_HOST_KEY,
        every: float = 5.0,
    ) -> None:
        super().__init__()
        self.needs = first
        self._check = check
        self.host_key = host_key
        self.every = every

    def on_mount(self) -> None:
        self.push_screen(
            NotReadyScreen(self.needs.needs, host_key=self.host_key, check_every=self.every)
        )
        self.set_interval(self.every, self.recheck)

    @work(exclusive=True)
    async def recheck(self) -> None:
        now = await asyncio.to_thread(self._check)
        if now.ready:
            self.allow_exit = True
            self.exit()
            return
        self.needs = now
        if isinstance(self.screen, NotReadyScreen):
            self.screen.show_needs(now.needs)

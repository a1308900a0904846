"""The supervisor's screen: quarantined documents with ERPNext's message, retry, shut down."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static

from appliance.counter.door import Counter
from appliance.counter.supervisor import Quarantined
from appliance.tui.context import Context
from appliance.tui.messages import ShutDown
from appliance.tui.screens.counter_screen import CounterScreen
from appliance.tui.screens.dialogs import ChoiceDialog
from appliance.tui.widgets.status_bar import StatusBar


class SupervisorScreen(CounterScreen[None]):
    BINDINGS = [  # noqa: RUF012
        Binding("f2", "retry", "Retry"),
        Binding("f12", "shut_down", "Shut down"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(classes="supervisor")
        self.ctx = ctx
        self.entries: list[Quarantined] = []

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="supervisor-box"):
            yield Static("SUPERVISOR - documents ERPNext refused", classes="screen-title")
            yield DataTable(id="quarantine", cursor_type="row")
            yield Static("", id="supervisor-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#quarantine", DataTable)
        table.add_columns("Document", "Id", "ERPNext said")
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        backend = self.ctx.backend
        self.entries = await backend.run(Counter.quarantined)
        table = self.query_one("#quarantine", DataTable)
        table.clear()
        for entry in self.entries:
            table.add_row(entry.doctype, entry.offline_id[:8], entry.message[:40])
        detail = self.query_one("#supervisor-detail", Static)
        detail.update("Nothing quarantined." if not self.entries else "F2 retries the selected one")
        table.focus()

    @work(exclusive=True)
    async def action_retry(self) -> None:
        if not self.entries:
            return
        row = self.query_one("#quarantine", DataTable).cursor_row
        entry_id = self.entries[row].id
        backend = self.ctx.backend
        await backend.run(Counter.retry, entry_id, self.ctx.user)
        self.load()

    @work(exclusive=True)
    async def action_shut_down(self) -> None:
        choice = await self.app.push_screen_wait(
            ChoiceDialog("Shut the till down?", ["Keep running", "SHUT DOWN"])
        )
        if choice == 1:
            self.post_message(ShutDown(self.ctx.user))

    def action_back(self) -> None:
        self.dismiss(None)

"""The receipt journal: find a past sale, look at it, reprint it (marked COPY), return from it.

The cashier types what they know (``54``, ``today 14:05``, ``12,50``, ``smith``, or scans the
receipt's code) and Enter lists the matching sales, newest first; the highlighted one is shown
beside the list as its receipt says it. The search itself is the counter's
(`counter.receipt_journal`); this screen only asks and shows.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, Static

from appliance.counter.door import Counter
from appliance.counter.receipt_journal import JournalPage
from appliance.tui.context import Context
from appliance.tui.format import money, qty
from appliance.tui.messages import Scanned
from appliance.tui.screens.counter_screen import CounterScreen
from appliance.tui.screens.reprint import reprint
from appliance.tui.widgets.status_bar import StatusBar

HINT = "Receipt no., date (2026-12-07, today), time (14:05), amount, customer, item"
WIDE = 33  # the receipt beside the list: 80 columns less the list and the margins


class JournalScreen(CounterScreen[str | None]):
    """Returns the receipt number to start a return from (F9), or None."""

    accepts_scans = True  # a receipt's printed code, or an item's barcode
    BINDINGS = [  # noqa: RUF012
        Binding("f4", "reprint", "Reprint"),
        Binding("f9", "return_from", "Return"),
        Binding("escape", "back", "Back"),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(classes="journal")
        self.ctx = ctx
        self.page = JournalPage((), more=False)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="journal-box"):
            yield Static("RECEIPTS - find a past sale on this till", classes="screen-title")
            yield Input(placeholder=HINT, id="journal-search")
            with Horizontal(id="journal-body"):
                yield DataTable(id="journal-hits", cursor_type="row")
                yield Static("", id="journal-receipt", markup=False)
            yield Static("", id="journal-message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#journal-hits", DataTable)
        for title, width in (("Receipt", 13), ("Date", 11), ("Time", 5), ("Total", 9)):
            table.add_column(title, width=width)
        self.query_one("#journal-search", Input).focus()
        self.search("")  # the latest sales, before anything is typed

    def say(self, text: str, *, error: bool = False) -> None:
        self.tell("#journal-message", text, error=error)

    def on_scanned(self, message: Scanned) -> None:
        self.query_one("#journal-search", Input).value = message.code
        self.search(message.code)

    @on(Input.Submitted, "#journal-search")
    def submitted(self, event: Input.Submitted) -> None:
        self.search(event.value)

    @work(exclusive=True, group="journal-search")
    async def search(self, text: str) -> None:
        page = await self.ctx.backend.run(Counter.find_receipts, text)
        self.page = page
        table = self.query_one("#journal-hits", DataTable)
        table.clear()
        for hit in page.hits:
            total = money(hit.total) + ("R" if hit.is_return else "")
            table.add_row(
                hit.receipt_no,
                f"{hit.posted_at:%Y-%m-%d}",
                f"{hit.posted_at:%H:%M}",
                total,
                key=hit.offline_id,
            )
        if not page.hits:
            self.query_one("#journal-receipt", Static).update("")
            self.say(f"No sale matches '{text.strip()}'" if text.strip() else "No sales yet")
            return
        # The search box keeps the keys (a new search is a keystroke away); Up and Down are the
        # screen's and move through the list.
        table.move_cursor(row=0)  # the table's RowHighlighted shows it (`highlighted`)
        more = " (more: add a term)" if page.more else ""
        count = f"{len(page.hits)} sale{'s' if len(page.hits) > 1 else ''}"
        self.say(f"{count}{more}. F4 reprint, F9 return, Esc back")

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#journal-hits", DataTable)
        if not self.page.hits:
            return
        row = max(0, min(table.cursor_row + step, len(self.page.hits) - 1))
        # The table's RowHighlighted shows the sale (`highlighted`): one read of the store.
        table.move_cursor(row=row)

    @on(DataTable.RowHighlighted, "#journal-hits")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show(event.cursor_row)

    @work(exclusive=True, group="journal-show")
    async def show(self, row: int) -> None:
        if not 0 <= row < len(self.page.hits):
            return
        hit = self.page.hits[row]
        receipt = await self.ctx.backend.run(Counter.receipt, hit.offline_id)
        lines = [
            f"{receipt.receipt_no}  {'RETURN' if receipt.is_return else 'SALE'}",
            f"{receipt.posted_at:%Y-%m-%d %H:%M}  {receipt.cashier}",
            f"Customer: {hit.customer}"[:WIDE],
            *(
                f"{line.item_name[:16]:<16} {qty(line.qty):>6} {money(line.amount):>9}"
                for line in receipt.lines
            ),
            f"{'Total':<{WIDE - 10}} {money(receipt.to_pay):>9}",
            *(
                f"{p.mode_of_payment[: WIDE - 10]:<{WIDE - 10}} {money(p.amount):>9}"
                for p in receipt.payments
            ),
            "sent to ERPNext" if hit.synced else "not sent to ERPNext yet",
        ]
        if receipt.return_against:
            lines.insert(2, f"Return of {receipt.return_against}")
        self.query_one("#journal-receipt", Static).update("\n".join(lines))

    def selected(self) -> str | None:
        """The highlighted sale's offline id."""
        table = self.query_one("#journal-hits", DataTable)
        if not self.page.hits or not 0 <= table.cursor_row < len(self.page.hits):
            self.say("Find a sale first", error=True)
            return None
        return self.page.hits[table.cursor_row].offline_id

    @work(exclusive=True, group="journal-print")
    async def action_reprint(self) -> None:
        offline_id = self.selected()
        if offline_id is None:
            return
        text, failed = await reprint(self.ctx, offline_id)
        self.say(text, error=failed)

    def action_return_from(self) -> None:
        offline_id = self.selected()
        if offline_id is None:
            return
        hit = next(h for h in self.page.hits if h.offline_id == offline_id)
        if hit.is_return:
            self.say(f"{hit.receipt_no} is a refund: return from the original sale", error=True)
            return
        self.dismiss(hit.receipt_no)

    def action_back(self) -> None:
        self.dismiss(None)

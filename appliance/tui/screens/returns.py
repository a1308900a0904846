"""Returns: find the sale by its receipt number (typed or scanned), pick lines and quantities,
refund by the original modes of payment, with a supervisor's approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input, Static

from appliance.counter.carts import Cart, CartError, check_whole
from appliance.counter.door import Counter
from appliance.counter.policy import Action, may
from appliance.counter.returns import preview_return
from appliance.counter.selling import refund_words
from appliance.tui.context import Context
from appliance.tui.failures import failure
from appliance.tui.format import money, parse_amount, qty
from appliance.tui.messages import Scanned
from appliance.tui.screens.after_sale import hand_over
from appliance.tui.screens.counter_screen import CounterScreen
from appliance.tui.screens.dialogs import OverrideDialog, PromptDialog
from appliance.tui.widgets.status_bar import StatusBar

ZERO = Decimal(0)


@dataclass(frozen=True)
class ReturnResult:
    offline_id: str
    receipt_no: str
    refunded: Decimal  # negative: money handed back
    handed_back: str = ""  # by each tender: "200.00 back to Credit Card, hand back 31.15 cash"


class ReturnScreen(CounterScreen[ReturnResult | None]):
    accepts_scans = True  # the app delivers keyboard-wedge scans here as `Scanned`
    BINDINGS = [  # noqa: RUF012
        Binding("f2", "set_qty", "Qty"),
        Binding("f3", "all", "All"),
        Binding("f10", "refund", "Refund"),
        Binding("escape", "back", "Back"),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
    ]

    def __init__(self, ctx: Context, code: str = "") -> None:
        super().__init__(classes="returns")
        self.ctx = ctx
        self.start_with = code  # a sale picked in the receipt journal
        self.code = ""
        self.original: Cart | None = None
        self.already: dict[int, Decimal] = {}
        self.back: dict[int, Decimal] = {}
        self.busy = False
        # An approved, fully refunded cart the store failed to save: F10 saves this same one
        # (same sale id, no second approval) until the lines or quantities change.
        self.unsaved: Cart | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="returns-box"):
            yield Static("RETURN - scan the receipt or type its number", classes="screen-title")
            yield Input(placeholder="Receipt number", id="receipt")
            yield DataTable(id="return-lines", cursor_type="row")
            yield Static("", id="return-total")
            yield Static("", id="return-message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#return-lines", DataTable)
        for title, width in (("Item", 28), ("Sold", 7), ("Back before", 11), ("Return", 7)):
            table.add_column(title, width=width)
        self.query_one("#receipt", Input).focus()
        if self.start_with:
            self.query_one("#receipt", Input).value = self.start_with
            self.load(self.start_with)

    def say(self, text: str, *, error: bool = False) -> None:
        self.tell("#return-message", text, error=error)

    def on_scanned(self, message: Scanned) -> None:
        self.query_one("#receipt", Input).value = message.code
        self.load(message.code)

    @on(Input.Submitted, "#receipt")
    def receipt_entered(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.load(event.value.strip())

    @work(exclusive=True, group="return-load")
    async def load(self, code: str) -> None:
        backend = self.ctx.backend
        try:
            original, already = await backend.run(Counter.return_source, code)
        except CartError as exc:
            self.say(str(exc), error=True)
            return
        self.code, self.original, self.already, self.back = code, original, already, {}
        self.unsaved = None
        self.show()
        self.query_one("#return-lines", DataTable).focus()
        self.say(f"Sale {code}: choose lines (F2 quantity, F3 everything), then F10")

    def show(self) -> None:
        table = self.query_one("#return-lines", DataTable)
        row = table.cursor_row
        table.clear()
        if self.original is None:
            return
        for line in self.original.lines:
            table.add_row(
                line.item_name[:28],
                qty(line.qty),
                qty(self.already.get(line.line_id, ZERO)),
                qty(self.back.get(line.line_id, ZERO)),
                key=str(line.line_id),
            )
        table.move_cursor(row=min(row, table.row_count - 1))
        total = self.preview()
        self.query_one("#return-total", Static).update(
            f"Refund: {money(-total.amount_due)}" if total is not None else "Refund: 0.00"
        )

    def preview(self) -> Cart | None:
        if self.original is None:
            return None
        return preview_return(self.original, self.back, self.already)

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#return-lines", DataTable)
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def selected_line(self) -> int | None:
        if self.original is None or not self.original.lines:
            return None
        row = self.query_one("#return-lines", DataTable).cursor_row
        return self.original.lines[row].line_id

    @work(exclusive=True, group="return-qty")
    async def action_set_qty(self) -> None:
        line_id = self.selected_line()
        if line_id is None or self.original is None:
            return
        line = self.original.line(line_id)
        left = line.qty - self.already.get(line_id, ZERO)
        typed = await self.app.push_screen_wait(
            PromptDialog(
                f"Return: {line.item_name}", f"Quantity back (at most {qty(left)})", qty(left)
            )
        )
        value = parse_amount(typed or "", self.ctx.facts.number_style)
        if value is None:
            return
        if value < 0 or value > left:
            self.say(f"At most {qty(left)} can come back", error=True)
            return
        try:
            check_whole(line, value)  # half a bag of coffee cannot come back
        except CartError as exc:
            self.say(str(exc), error=True)
            return
        self.back[line_id] = value
        self.unsaved = None
        self.show()

    def action_all(self) -> None:
        if self.original is None:
            return
        self.back = {
            line.line_id: line.qty - self.already.get(line.line_id, ZERO)
            for line in self.original.lines
        }
        self.unsaved = None
        self.show()

    def action_back(self) -> None:
        if not self.busy:
            self.dismiss(None)

    @work(exclusive=True, group="refund")
    async def action_refund(self) -> None:
        if self.busy:
            return
        if self.unsaved is not None:
            await self.save(self.unsaved)
            return
        if self.original is None or not any(self.back.values()):
            self.say("Choose what comes back first", error=True)
            return
        cashier = self.ctx.cashier
        backend = self.ctx.backend
        quantities = {k: v for k, v in self.back.items() if v}
        try:
            cart = await backend.run(Counter.start_return, self.code, quantities)
        except CartError as exc:
            self.say(str(exc), error=True)
            return
        refund = -cart.amount_due
        if not may(cashier, Action.RETURN):
            approver = await self.app.push_screen_wait(
                OverrideDialog(
                    self.ctx,
                    Action.RETURN,
                    f"refund {money(refund)} on {self.code}",
                    {"receipt_no": self.code, "refund": str(refund)},
                )
            )
            if approver is None:
                self.say("Return not approved", error=True)
                return
        await self.save(await backend.run(Counter.refund, cart, self.code))

    async def save(self, cart: Cart) -> None:
        backend = self.ctx.backend
        self.busy = True
        self.say("Saving the refund...")
        try:
            done = await backend.run(Counter.commit, cart, self.ctx.user)
        except Exception as exc:
            self.busy = False
            problem = failure(exc)
            self.unsaved = None if problem.refused else cart
            what = "Not saved" if problem.refused else "The refund could not be saved"
            self.say(problem.sentence(what, "press F10 to try again"), error=True)
            return
        self.unsaved = None
        problems = await hand_over(self.ctx.devices, done)
        if problems:
            self.app.notify("; ".join(problems), severity="error")
        words = refund_words(done.tenders, money)
        self.dismiss(ReturnResult(done.offline_id, done.receipt_no, done.amount_due, words))

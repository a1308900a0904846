"""Choosing the sale's customer: search by name or phone, or create one offline."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from appliance.counter.carts import CustomerInfo
from appliance.counter.customers import NewCustomer
from appliance.counter.door import Counter
from appliance.tui.context import Context
from appliance.tui.screens.counter_screen import CounterModal
from appliance.tui.screens.dialogs import ChoiceDialog, PromptDialog

Chosen = tuple[str, str]  # (customer name, what the screen shows)


class CustomerDialog(CounterModal[Chosen | None]):
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel"),
        Binding("f2", "new", "New customer"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(classes="dialog")
        self.ctx = ctx
        self.found: tuple[CustomerInfo, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static("Customer", classes="dialog-title")
            yield Input(placeholder="Name or phone", id="customer-search")
            yield OptionList(id="customer-results")
            yield Static("Enter: choose  F2: new customer  Esc: cancel", id="error")

    def on_mount(self) -> None:
        self.query_one("#customer-search", Input).focus()

    @on(Input.Changed, "#customer-search")
    def changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(exclusive=True, group="customer-search")
    async def search(self, text: str) -> None:
        backend = self.ctx.backend
        found = await backend.run(Counter.search_customers, text, 8) if text.strip() else ()
        if self.query_one("#customer-search", Input).value != text:
            return
        self.found = found
        results = self.query_one("#customer-results", OptionList)
        results.clear_options()
        results.add_options(
            [Option(f"{c.customer_name or c.name}  {c.billing_state}", id=c.name) for c in found]
        )
        if found:
            results.highlighted = 0

    def action_move(self, step: int) -> None:
        results = self.query_one("#customer-results", OptionList)
        if step > 0:
            results.action_cursor_down()
        else:
            results.action_cursor_up()

    @on(Input.Submitted, "#customer-search")
    def submitted(self) -> None:
        index = self.query_one("#customer-results", OptionList).highlighted
        if index is not None and index < len(self.found):
            c = self.found[index]
            self.dismiss((c.name, c.customer_name or c.name))

    @on(OptionList.OptionSelected, "#customer-results")
    def picked(self, event: OptionList.OptionSelected) -> None:
        c = self.found[event.option_index]
        self.dismiss((c.name, c.customer_name or c.name))

    @work(exclusive=True, group="customer-new")
    async def action_new(self) -> None:
        backend = self.ctx.backend
        name = await self.app.push_screen_wait(
            PromptDialog(
                "New customer",
                "Name",
                self.query_one("#customer-search", Input).value,
                check=lambda t: None if t.strip() else "A name is needed",
            )
        )
        if name is None:
            return
        phone = await self.app.push_screen_wait(PromptDialog("New customer", "Phone (optional)"))
        if phone is None:
            return
        provinces = await backend.run(Counter.provinces)
        pick = await self.app.push_screen_wait(ChoiceDialog("Province", provinces))
        if pick is None:
            return
        categories = ["(none)", *await backend.run(Counter.tax_categories)]
        cat = await self.app.push_screen_wait(ChoiceDialog("Tax category", categories))
        if cat is None:
            return
        new = NewCustomer(
            name=name.strip(),
            phone=phone.strip(),
            province=provinces[pick],
            tax_category="" if cat == 0 else categories[cat],
        )
        created = await backend.run(Counter.create_customer, new, self.ctx.user)
        self.dismiss((created, new.name))

    def action_cancel(self) -> None:
        self.dismiss(None)

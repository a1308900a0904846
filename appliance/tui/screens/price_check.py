"""Price check: scan or key an item and see what it costs, per unit and per quantity break.

Nothing is added to the sale. The prices are the counter's (`counter.price_check`), priced for
the customer on the sale when there is one.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from appliance.counter.carts import CartError
from appliance.counter.door import Counter
from appliance.counter.price_check import PriceCheck
from appliance.tui.context import Context
from appliance.tui.format import money, qty
from appliance.tui.messages import Scanned


def describe(check: PriceCheck) -> str:
    """The check as the cashier reads it out to the customer."""
    lines = [f"{check.item_name}  ({check.item_code})"]
    if check.label_price is not None:
        lines.append(f"This label: {money(check.label_price)}")
    for unit in check.units:
        per = (
            f"{unit.uom} of {qty(unit.conversion_factor)}"
            if unit.conversion_factor != 1
            else unit.uom
        )
        price = money(unit.rate)
        if unit.rate != unit.list_price:
            price += f"  (was {money(unit.list_price)})"
        lines.append(f"{per}: {price}")
        lines.extend(f"  {title}" for title in unit.promotions)
        lines.extend(f"  from {qty(b.min_qty)}: {money(b.rate)} each" for b in unit.breaks)
    if check.is_weighed:
        lines.append(f"Sold by weight: price per {check.stock_uom}")
    return "\n".join(lines)


class PriceCheckDialog(ModalScreen[None]):
    accepts_scans = True  # the app delivers keyboard-wedge scans here as `Scanned`
    BINDINGS = [Binding("escape", "close", "Close")]  # noqa: RUF012

    def __init__(self, ctx: Context, customer: str | None = None) -> None:
        super().__init__(classes="dialog")
        self.ctx = ctx
        self.customer = customer

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static("PRICE CHECK - nothing is added to the sale", classes="dialog-title")
            yield Input(placeholder="Scan, or type a barcode or item code", id="price-code")
            yield Static("", id="price-result", markup=False)
            yield Static("Enter: check   Esc: close", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#price-code", Input).focus()

    def on_scanned(self, message: Scanned) -> None:
        self.query_one("#price-code", Input).value = message.code
        self.check(message.code)

    @on(Input.Submitted, "#price-code")
    def submitted(self, event: Input.Submitted) -> None:
        self.check(event.value)

    @work(exclusive=True, group="price-check")
    async def check(self, code: str) -> None:
        result = self.query_one("#price-result", Static)
        try:
            found = await self.ctx.backend.run(Counter.price_check, code, self.customer)
        except CartError as exc:
            self.app.bell()
            result.update(str(exc))
            result.set_class(True, "error")
            return
        result.set_class(False, "error")
        result.update(describe(found))
        self.query_one("#price-code", Input).value = ""

    def action_close(self) -> None:
        self.dismiss(None)

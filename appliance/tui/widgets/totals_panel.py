"""The cart's totals as ERPNext computes them: net, each tax row, discount, rounding, due."""

from __future__ import annotations

from rich.table import Table
from textual.reactive import reactive
from textual.widgets import Static

from appliance.counter.carts import Cart
from appliance.tui.format import money


class TotalsPanel(Static):
    cart: reactive[Cart | None] = reactive(None, layout=True)
    customer_label: reactive[str] = reactive("")

    def render(self) -> Table:
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1)
        grid.add_column(justify="right")
        cart = self.cart
        grid.add_row(f"[i]{(self.customer_label or 'Walk-in')[:23]}[/i]", "")
        t = cart.totals if cart else None
        if cart is None or t is None:
            grid.add_row("Items", "0")
            grid.add_row("[b]DUE[/b]", "[b]0.00[/b]")
            return grid
        grid.add_row("Items", f"{t.total_qty.normalize():f}")
        grid.add_row("Net", money(t.net_total))
        for tax in t.taxes:
            label = (tax.description or tax.account_head).split(" - ")[0][:12]
            grid.add_row(f" {label}", money(tax.tax_amount_after_discount_amount))
        if t.discount_amount:
            grid.add_row("Discount", f"-{money(t.discount_amount)}")
        grid.add_row("Total", money(t.grand_total))
        if t.rounding_adjustment:
            grid.add_row("Rounding", money(t.rounding_adjustment))
        label = "REFUND" if cart.is_return else "DUE"
        grid.add_row(f"[b]{label}[/b]", f"[b]{money(cart.amount_due)}[/b]")
        if cart.payments:
            grid.add_row("Paid", money(cart.paid))
            grid.add_row("Left", money(cart.remaining))
        return grid

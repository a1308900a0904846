"""The cart's totals as ERPNext computes them: net, each tax row, discount, rounding, due."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from textual.reactive import reactive
from textual.widgets import Static

from appliance.counter.carts import Cart, discount_after_taxes
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
        if cart is not None and cart.coupon_code:
            grid.add_row(escape(f"Coupon {cart.coupon_code[:16]}"), "")
        if cart is not None and cart.sales_person:
            grid.add_row(escape(f"By {cart.sales_person[:20]}"), "")
        t = cart.totals if cart else None
        if cart is None or t is None:
            grid.add_row("Items", "0")
            grid.add_row("[b]DUE[/b]", "[b]0.00[/b]")
            return grid
        grid.add_row("Items", f"{t.total_qty.normalize():f}")
        # With a whole-sale discount the rows add up as the receipt's do (ERPNext's print):
        # the subtotal, then the discount before or after the taxes, never counted twice.
        after = discount_after_taxes(cart.apply_discount_on, t.discount_amount)
        discount = [("Discount", f"-{money(t.discount_amount)}")] if t.discount_amount else []
        grid.add_row(*(("Subtotal", money(t.total)) if discount else ("Net", money(t.net_total))))
        rows = [] if after else list(discount)
        for tax in t.taxes:
            label = (tax.description or tax.account_head).split(" - ")[0][:12]
            amount = tax.tax_amount if after else tax.tax_amount_after_discount_amount
            rows.append((f" {label}", money(amount)))
        for row in rows + (discount if after else []):
            grid.add_row(*row)
        grid.add_row("Total", money(t.grand_total))
        if t.rounding_adjustment:
            grid.add_row("Rounding", money(t.rounding_adjustment))
        label = "REFUND" if cart.is_return else "DUE"
        grid.add_row(f"[b]{label}[/b]", f"[b]{money(cart.amount_due)}[/b]")
        if cart.payments:
            grid.add_row("Paid", money(cart.paid))
            grid.add_row("Left", money(cart.remaining))
        return grid

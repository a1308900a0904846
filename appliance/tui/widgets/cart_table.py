"""The cart's lines as a table; the highlighted row is the line F2/F3/F4/Del act on."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from appliance.counter.carts import Cart
from appliance.tui.format import money, qty


class CartTable(DataTable[str]):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.add_column("Item", key="item", width=22)
        self.add_column("Qty", key="qty", width=7)
        self.add_column("Price", key="price", width=8)
        self.add_column("Amount", key="amount", width=9)

    def show(self, cart: Cart, *, follow: bool = False) -> None:
        """Redraw from the cart; the cursor stays on the same line, or goes to the last one."""
        keep = None if follow else self.selected_line
        self.clear()
        amounts: dict[int, Decimal] = {}
        if cart.totals is not None:
            amounts = {n: r.amount for n, r in enumerate(cart.totals.items)}
        for n, line in enumerate(cart.lines):
            name = line.item_name
            rate = line.base_rate
            # A line sold in another unit than the item's stock unit names it ("/Box").
            marks = f" /{line.uom}" if line.conversion_factor != 1 else ""
            if line.discount_percentage:
                marks += f" -{qty(line.discount_percentage)}%"
            if line.rate_override is not None:
                marks += " *"
            self.add_row(
                (name[: 22 - len(marks)] + marks) if marks else name[:22],
                qty(line.qty),
                money(rate),
                money(amounts.get(n)),
                key=str(line.line_id),
            )
        if cart.lines:
            ids = [line.line_id for line in cart.lines]
            self.move_cursor(row=ids.index(keep) if keep in ids else len(ids) - 1)

    def select_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    @property
    def selected_line(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return int(str(key.value)) if key.value is not None else None

"""The sale screen's totals add up with a whole-sale discount, as the receipt's do."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from appliance.sales import cart as carts
from appliance.sales.model import DiscountOn
from appliance.sales.till import Till
from appliance.tui.widgets.totals_panel import TotalsPanel
from tests.sales.test_till import CATALOG, PROFILE


@pytest.mark.parametrize("on", list(DiscountOn))
@pytest.mark.parametrize("amount", [D("0.34"), D("1.01")])
def test_the_panels_rows_add_up_to_the_total(on: DiscountOn, amount: D) -> None:
    till = Till(CATALOG, PROFILE, date(2026, 12, 7))
    cart = till.new_cart()
    for _ in range(5):
        cart = till.scan(cart, "0123456789012")
    cart = carts.set_cart_discount(cart, amount=amount, on=on)
    panel = TotalsPanel()
    panel.cart = cart
    grid = panel.render()
    labels = [str(c).strip() for c in grid.columns[0]._cells]
    values = [str(c) for c in grid.columns[1]._cells]
    start, end = labels.index("Subtotal"), labels.index("Total")
    shown = [D(v.replace(",", "")) for v in values[start:end]]
    assert "Discount" in labels[start:end]
    assert sum(shown, D(0)) == D(values[end].replace(",", "")), list(
        zip(labels, values, strict=True)
    )
    # The discount sits where ERPNext prints it: after the taxes on Grand Total, else before.
    expected = end - 1 if on is DiscountOn.GRAND_TOTAL else start + 1
    assert labels.index("Discount") == expected

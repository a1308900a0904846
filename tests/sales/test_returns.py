"""Returns: some or all lines of a sale come back and are refunded as ERPNext expects."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from appliance.sales.cart import Cart, CartError, CartLine, add_line, set_cart_discount
from appliance.sales.erpnext_float import RoundingMethod
from appliance.sales.model import ChargeType, TaxLine, TotalsSettings
from appliance.sales.returns import make_return

TAXES = (
    TaxLine(ChargeType.ON_NET_TOTAL, "GST - PTC", rate=D(5)),
    TaxLine(ChargeType.ON_NET_TOTAL, "PST - PTC", rate=D(7)),
    TaxLine(ChargeType.ACTUAL, "Bag fee - PTC", tax_amount=D("0.20")),
)


def _sale(method: RoundingMethod = RoundingMethod.BANKERS) -> Cart:
    cart = Cart(settings=TotalsSettings(rounding_method=method), taxes=TAXES)
    cart = add_line(cart, CartLine(0, "SOAP", "Soap", D(3), D("2.49")))
    cart = add_line(cart, CartLine(0, "TOWEL", "Towel", D(1), D("12.99")))
    return cart


@pytest.mark.parametrize("method", list(RoundingMethod))
def test_a_full_return_refunds_exactly_what_was_paid(method: RoundingMethod) -> None:
    sale = _sale(method)
    back = make_return(sale, "S1", {1: D(3), 2: D(1)})
    assert sale.totals is not None and back.totals is not None
    assert back.is_return and back.return_against == "S1"
    assert back.totals.grand_total == -sale.totals.grand_total
    assert back.totals.rounded_total == -sale.totals.rounded_total
    assert [t.tax_amount for t in back.totals.taxes] == [-t.tax_amount for t in sale.totals.taxes]


def test_a_partial_return_refunds_its_share_of_fixed_charges() -> None:
    sale = set_cart_discount(_sale(), amount=D("2.00"))
    back = make_return(sale, "S1", {1: D(1)})
    assert back.totals is not None
    assert back.lines[0].qty == D(-1)
    assert back.lines[0].return_of == "S1:1"
    # 2.49 of 20.46 came back: the bag fee and the discount follow that share.
    assert back.taxes[2].tax_amount == D("-0.02")
    assert back.discount_amount == D("-0.24")
    assert back.totals.grand_total < 0


def test_cannot_return_more_than_was_sold_or_already_returned() -> None:
    sale = _sale()
    with pytest.raises(CartError, match=r"Soap: at most 3 can be returned"):
        make_return(sale, "S1", {1: D(4)})
    with pytest.raises(CartError, match=r"at most 1 can be returned \(sold 3, returned 2\)"):
        make_return(sale, "S1", {1: D(2)}, already_returned={1: D(2)})
    with pytest.raises(CartError, match="at least one line"):
        make_return(sale, "S1", {})

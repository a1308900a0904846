"""The body sent to ERPNext recomputes, through the same algorithm, to the totals we printed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from appliance.sales.cart import Cart, CartLine, add_line, add_payment, set_line_discount
from appliance.sales.model import ChargeType, PaymentLine, TaxLine, TotalsSettings
from appliance.sales.payload import InvoiceContext, invoice_payload
from appliance.sales.quote import quote

CTX = InvoiceContext(
    company="POS Test Co",
    pos_profile="Main POS",
    currency="CAD",
    selling_price_list="Standard Selling",
    warehouse="Stores - PTC",
    terminal_id="T01",
    payment_accounts={"Cash": "Cash - PTC"},
    account_for_change_amount="Cash - PTC",
)


def test_payload_recomputes_to_the_same_totals() -> None:
    zero_rated = {"PST - PTC": D(0)}
    cart = Cart(
        settings=TotalsSettings(),
        taxes=(
            TaxLine(ChargeType.ON_NET_TOTAL, "GST - PTC", rate=D(5)),
            TaxLine(ChargeType.ON_NET_TOTAL, "PST - PTC", rate=D(7)),
        ),
    )
    cart = add_line(cart, CartLine(0, "BOOK", "Atlas", D(1), D("24.95"), item_tax_rate=zero_rated))
    cart = add_line(cart, CartLine(0, "PEN", "Pen", D(4), D("1.79")))
    cart = set_line_discount(cart, 2, D("12.5"))
    cart = add_payment(cart, PaymentLine("Cash", D(40), type="Cash"))
    body = invoice_payload(
        cart,
        CTX,
        offline_id="6f1c1d4e-0000-4000-8000-000000000001",
        customer="Walk-in",
        posted_at=datetime(2026, 11, 23, 14, 5, 9, 123456),
        cashier="ana",
    )
    assert body["offline_id"].startswith("6f1c")
    assert body["posting_time"] == "14:05:09" and body["set_posting_time"] == 1
    assert body["ignore_pricing_rule"] == 1 and body["docstatus"] == 1
    assert body["payments"] == [{"mode_of_payment": "Cash", "amount": 40, "account": "Cash - PTC"}]
    assert body["items"][1]["rate"] == 1.57  # 1.79 less 12.5 %, as ERPNext rounds it

    # What ERPNext will do on receipt: recompute from the body (item tax maps come from the
    # item tax template on the server; supply the same map here).
    doc = dict(body)
    doc["items"] = [dict(body["items"][0], item_tax_rate=zero_rated), body["items"][1]]
    server = quote({"settings": {"rounding_method": "Banker's Rounding"}, "doc": doc})
    assert cart.totals is not None
    assert server["grand_total"] == cart.totals.grand_total
    assert server["change_amount"] == cart.totals.change_amount
    assert body["change_amount"] == float(cart.totals.change_amount)

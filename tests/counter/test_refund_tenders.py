"""A refund paid back by two tenders says what went back by each: "200.00 back to Credit Card,
hand back 31.15 cash", to the cashier and on the printed refund receipt."""

from __future__ import annotations

from decimal import Decimal as D

from appliance.counter.door import Counter
from appliance.counter.selling import refund_words
from appliance.demo.masters import ean13
from appliance.drivers.printer.layout import ReceiptLayout, money
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine

CASHIER = "ana@example.com"


def test_a_two_tender_refund_says_what_goes_back_by_each(counter: Counter) -> None:
    counter.open_shift(CASHIER, {"Cash": D(100)})
    card = next(m for m in counter.facts().modes if m.mode_of_payment == "Credit Card")
    code = ean13("060000000010")
    cart = counter.on_till(lambda till: till.scan(till.scan(counter.new_cart(), code), code))
    on_card = (cart.amount_due * D("0.7")).quantize(D("0.01"))
    cart = carts.add_payment(
        cart, PaymentLine(card.mode_of_payment, on_card, type=card.type, account=card.account)
    )
    cart = carts.add_payment(cart, PaymentLine("Cash", D(50), type="Cash"))  # change given
    sold = counter.commit(cart, CASHIER)
    original, _ = counter.return_source(sold.receipt_no)
    back = counter.start_return(
        sold.receipt_no, {line.line_id: line.qty for line in original.lines}
    )
    done = counter.commit(counter.refund(back, sold.receipt_no), CASHIER)

    to_card = on_card
    in_cash = -done.amount_due - on_card
    assert in_cash > 0
    words = refund_words(done.tenders, money)
    assert words == f"{money(to_card)} back to Credit Card, hand back {money(in_cash)} cash"

    assert done.receipt is not None
    text = ReceiptLayout(columns=42).render(done.receipt).as_text()
    lines = text.splitlines()

    def row(label: str) -> str:
        return next(line for line in lines if line.startswith(label))

    assert row("Back to Credit Card").endswith(f" {money(to_card)}"), text
    assert row("Cash handed back").endswith(f" {money(in_cash)}"), text
    assert row("Refunded").endswith(f" {money(to_card + in_cash)}"), text
    assert not any(line.startswith("Paid") for line in lines), text


def test_a_sale_s_words_are_not_a_refund_s() -> None:
    from appliance.counter.selling import Tender

    assert refund_words((Tender("Cash", D("-5.00"), cash=True),), money) == "hand back 5.00 cash"
    assert refund_words((), money) == ""

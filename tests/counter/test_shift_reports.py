"""X and Z reports add up, and every figure on them comes from the store: a day with sales by
each tender, a return refunded by two tenders, no-sale drawer openings and a per-litre levy."""

from __future__ import annotations

from decimal import Decimal as D

from appliance.counter.door import Counter
from appliance.counter.selling import NO_SALE
from appliance.demo.masters import ean13
from appliance.drivers.peripherals import report_text
from appliance.drivers.printer.layout import money
from appliance.drivers.printer.receipt import ShiftReport
from appliance.sales import cart as carts
from appliance.sales.cart import Cart
from appliance.sales.model import PaymentLine

CASHIER = "ana@example.com"
FUEL = "SKU-000001"  # Regular Gasoline, sold by the litre under the carbon levy
PIECE = ean13("060000000010")


def _pay(counter: Counter, cart: Cart, *tenders: tuple[str, D | None]) -> Cart:
    """Pay ``cart`` by each (mode, amount) in turn; None pays what is left."""
    modes = {m.mode_of_payment: m for m in counter.facts().modes}
    for mode, amount in tenders:
        m = modes[mode]
        cart = carts.add_payment(
            cart, PaymentLine(mode, amount or cart.remaining, type=m.type, account=m.account)
        )
    assert cart.is_fully_paid
    return cart


def _day(counter: Counter) -> list[Cart]:
    """A shift's worth of selling; the carts as paid, in order."""
    counter.open_shift(CASHIER, {"Cash": D(100)})
    paid: list[Cart] = []

    def sell(cart: Cart, *tenders: tuple[str, D | None]) -> str:
        cart = _pay(counter, cart, *tenders)
        paid.append(cart)
        return counter.commit(cart, CASHIER).receipt_no

    fuel = counter.on_till(lambda till: till.add_item(counter.new_cart(), FUEL, D(40)))
    sell(fuel, ("Cash", fuel.amount_due + D(20)))  # change given
    two = counter.on_till(lambda till: till.scan(till.scan(counter.new_cart(), PIECE), PIECE))
    two_tenders = sell(
        two, ("Credit Card", (two.amount_due / 2).quantize(D("0.01"))), ("Cash", None)
    )
    gift = counter.on_till(lambda till: till.scan(counter.new_cart(), PIECE))
    sell(gift, ("Gift Card", None))
    debit = counter.on_till(lambda till: till.add_item(counter.new_cart(), FUEL, D("12.5")))
    sell(debit, ("Debit Card", None))
    original, _ = counter.return_source(two_tenders)
    everything = {line.line_id: line.qty for line in original.lines}
    back = counter.refund(counter.start_return(two_tenders, everything), two_tenders)
    assert {p.mode_of_payment for p in back.payments} == {"Credit Card", "Cash"}
    paid.append(back)
    counter.commit(back, CASHIER)
    for reason in (NO_SALE, "sale", NO_SALE, "refund"):
        counter.drawer_opened(CASHIER, reason, None, "drawer")
    return paid


def _adds_up(report: ShiftReport, paid: list[Cart]) -> None:
    def grand(c: Cart) -> D:
        assert c.totals is not None
        return c.totals.grand_total

    sales = [c for c in paid if not c.is_return]
    returns = [c for c in paid if c.is_return]
    assert (report.invoice_count, report.return_count) == (len(sales), len(returns))
    assert report.sales_total == sum(map(grand, sales))
    assert report.returns_total == sum(map(grand, returns)) < 0
    assert report.sales_total + report.returns_total == report.grand_total
    assert report.net_total + report.total_taxes == report.grand_total
    assert sum(t.amount for t in report.taxes) == report.total_taxes
    # Each tender: what it took in, less the change and what went back, as the carts paid it.
    for p in report.payments:
        moved = sum(
            (x.amount for c in paid for x in c.payments if x.mode_of_payment == p.mode_of_payment),
            D(0),
        )
        if p.mode_of_payment == "Cash":
            moved -= sum(c.totals.change_amount for c in paid if c.totals)
            moved += D(100)  # the opening float
        assert p.expected == moved, p
    taken = sum(p.expected for p in report.payments) - report.opening_float
    assert taken == report.grand_total + report.rounding
    assert report.drawer_openings == 2  # the no-sales, not the sale's or the refund's


def test_an_x_and_a_z_report_add_up_from_the_store(counter: Counter) -> None:
    paid = _day(counter)
    x = counter.printed_report(counter.shift_totals(), CASHIER, closing=False)
    _adds_up(x, paid)
    expected = {p.mode_of_payment: p.expected for p in x.payments}
    z = counter.printed_report(counter.close_shift(CASHIER, expected), CASHIER, closing=True)
    _adds_up(z, paid)
    assert (z.returns_total, z.drawer_openings) == (x.returns_total, x.drawer_openings)

    counter.open_shift(CASHIER, {"Cash": D(0)})  # the next shift starts from nothing
    fresh = counter.printed_report(counter.shift_totals(), CASHIER, closing=False)
    assert (fresh.returns_total, fresh.drawer_openings, fresh.invoice_count) == (D(0), 0, 0)


def test_a_report_names_its_taxes_and_prints_the_levy_per_litre(counter: Counter) -> None:
    _day(counter)
    report = counter.printed_report(counter.shift_totals(), CASHIER, closing=False)
    names = {t.description for t in report.taxes}
    assert names == {"Carbon levy", "GST", "PST"}, names
    levy = next(t for t in report.taxes if t.description == "Carbon levy")
    assert levy.per_unit and levy.unit == "Litre"
    text = report_text(report, columns=42)
    assert f"Carbon levy {levy.rate.normalize():f}/Litre" in text, text
    assert "%" not in next(line for line in text.splitlines() if "Carbon levy" in line)
    assert "Payable" not in text  # account names are ERPNext's books, not the report's words
    assert f"Returns total{money(report.returns_total):>29}" in text, text
    assert "No-sale drawer openings" in text and text.count("openings") == 1
    assert next(
        line for line in text.splitlines() if line.startswith("No-sale drawer openings")
    ).endswith(" 2")


def test_a_levy_nothing_paid_in_the_shift_is_not_printed(counter: Counter) -> None:
    counter.open_shift(CASHIER, {"Cash": D(0)})
    cart = counter.on_till(lambda till: till.scan(counter.new_cart(), PIECE))
    counter.commit(_pay(counter, cart, ("Cash", None)), CASHIER)
    report = counter.printed_report(counter.shift_totals(), CASHIER, closing=False)
    assert any(t.description == "Carbon levy" and not t.amount for t in report.taxes)
    text = report_text(report, columns=42)
    assert "Carbon levy" not in text and "GST 5%" in text, text

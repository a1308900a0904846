"""A sale is tax-exempt only with a supervisor's approval and the exemption certificate's number:
a customer made at the till with the "Tax Exempt" category is otherwise taxed as anyone else.
The number is kept with the sale, sent to ERPNext and printed on the receipt."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from appliance.counter.cashier import CashierCard
from appliance.counter.customers import NewCustomer
from appliance.counter.door import Counter
from appliance.counter.policy import Action, may
from appliance.demo.masters import EXEMPT_CATEGORY, ean13
from appliance.drivers.printer.layout import ReceiptLayout
from appliance.sales import cart as carts
from appliance.sales.cart import Cart, CartError, TaxExemption
from appliance.sales.model import PaymentLine
from appliance.sales.payload import EXEMPTION_FIELD
from appliance.store.models import PosInvoice
from appliance.store.roles import CashierRole

CASHIER = "ana@example.com"
SUPERVISOR = "bo@example.com"
CODE = ean13("060000000010")


def _exempt_customer(counter: Counter) -> str:
    new = NewCustomer("Maple School Board", province="British Columbia")
    return counter.create_customer(
        NewCustomer(new.name, province=new.province, tax_category=EXEMPT_CATEGORY), CASHIER
    )


def _cart(counter: Counter, customer: str, exemption: TaxExemption | None = None) -> Cart:
    cart = counter.on_till(lambda till: till.scan(counter.new_cart(), CODE))
    return counter.on_till(lambda till: till.set_customer(cart, customer, exemption))


def test_only_a_supervisor_may_make_a_sale_tax_exempt() -> None:
    ana = CashierCard("ana", "Ana", CashierRole.CASHIER)
    bo = CashierCard("bo", "Bo", CashierRole.SUPERVISOR)
    assert not may(ana, Action.TAX_EXEMPTION) and may(bo, Action.TAX_EXEMPTION)


def test_a_tax_exempt_customer_is_taxed_without_the_approved_certificate(
    counter: Counter,
) -> None:
    counter.open_shift(CASHIER, {"Cash": D(0)})
    exempt = _exempt_customer(counter)
    assert counter.on_till(lambda till: till.exempting_category(exempt)) == EXEMPT_CATEGORY
    plain = _cart(counter, counter.checkout.profile.walk_in_customer)
    assert counter.on_till(lambda till: till.exempting_category(plain.customer)) == ""

    taxed = _cart(counter, exempt)  # no approval, no number: taxed as anyone
    assert taxed.tax_exemption is None
    assert taxed.taxes == plain.taxes and taxed.taxes
    assert taxed.amount_due == plain.amount_due

    with pytest.raises(CartError, match="certificate"):
        _cart(counter, exempt, TaxExemption("   ", SUPERVISOR))
    with pytest.raises(CartError, match="certificate"):
        _cart(counter, exempt, TaxExemption("AB\x1b[2J", SUPERVISOR))

    # An exemption offered for a customer who is not exempt changes nothing.
    walk_in = counter.checkout.profile.walk_in_customer
    assert _cart(counter, walk_in, TaxExemption("X-1", SUPERVISOR)).tax_exemption is None

    free = _cart(counter, exempt, TaxExemption(" BC-EX-20931 ", SUPERVISOR))
    assert free.tax_exemption == TaxExemption("BC-EX-20931", SUPERVISOR, EXEMPT_CATEGORY)
    assert free.amount_due < plain.amount_due
    assert not any(t.rate or t.tax_amount for t in free.taxes)
    # Another customer after it: the exemption does not follow.
    again = counter.on_till(lambda till: till.set_customer(free, walk_in))
    assert again.tax_exemption is None and again.amount_due == plain.amount_due


def test_the_certificate_is_kept_sent_and_printed(counter: Counter) -> None:
    counter.open_shift(CASHIER, {"Cash": D(0)})
    exempt = _exempt_customer(counter)
    cart = _cart(counter, exempt, TaxExemption("BC-EX-20931", SUPERVISOR))
    cart = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
    done = counter.commit(cart, CASHIER)

    with counter.read() as session:
        sale = session.scalar(select(PosInvoice).where(PosInvoice.offline_id == done.offline_id))
        assert sale is not None
        payload = json.loads(sale.payload)
    assert payload[EXEMPTION_FIELD] == "BC-EX-20931"
    assert (
        "tax exempt (Tax Exempt), certificate BC-EX-20931, approved by bo@example.com"
        in (payload["remarks"])
    )
    assert done.receipt is not None and done.receipt.exemption_certificate == "BC-EX-20931"
    text = ReceiptLayout(columns=42).render(done.receipt).as_text()
    assert "Tax exempt: certificate BC-EX-20931" in text, text
    reprint = counter.receipt(done.offline_id, reprint=True)
    assert reprint.exemption_certificate == "BC-EX-20931"

    # A taxed sale to the same customer carries no certificate.
    taxed = _cart(counter, exempt)
    taxed = carts.add_payment(taxed, PaymentLine("Cash", taxed.amount_due, type="Cash"))
    plain = counter.commit(taxed, CASHIER)
    assert plain.receipt is not None and plain.receipt.exemption_certificate == ""
    assert "exempt" not in ReceiptLayout(columns=42).render(plain.receipt).as_text().lower()

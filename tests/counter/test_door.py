"""The counter's one door (`Counter`): what the screens, `appliance simulate` and the benches
all go through, on a real seeded store."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from appliance.counter.cashier import CashierCard
from appliance.counter.customers import NewCustomer
from appliance.counter.door import Counter
from appliance.counter.policy import Action, may
from appliance.counter.returns import PaidBy, refund_plan
from appliance.demo.masters import ean13
from appliance.drivers.interfaces import DrawerOpening
from appliance.drivers.peripherals import StandInPeripherals
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine
from appliance.store.db import unit_of_work
from appliance.store.journal import verify
from appliance.store.masters import apply_masters
from appliance.store.models import Customer, JournalEntry, OutboxEntry, Territory
from appliance.store.roles import CashierRole

CASHIER = "ana@example.com"


def _cart(counter: Counter, *, mode: str, kind: str) -> carts.Cart:
    cart = counter.new_cart()
    code = ean13("060000000010")
    cart = counter.on_till(lambda till: till.scan(cart, code))
    return carts.add_payment(cart, PaymentLine(mode, cart.amount_due, type=kind))


def test_a_cash_sale_hands_the_hardware_its_receipt_and_opens_the_drawer(
    counter: Counter,
) -> None:
    counter.open_shift(CASHIER, {"Cash": D(100)})
    done = counter.commit(_cart(counter, mode="Cash", kind="Cash"), CASHIER)
    assert done.open_drawer and done.drawer_reason == "sale"
    assert done.receipt is not None and done.receipt.receipt_no == done.receipt_no
    assert done.receipt_problem == ""
    assert counter.receipt(done.offline_id).receipt_no == done.receipt_no


def test_a_card_sale_keeps_the_drawer_shut(counter: Counter) -> None:
    counter.open_shift(CASHIER, {"Cash": D(0)})
    card = next(m for m in counter.facts().modes if m.type != "Cash")
    done = counter.commit(_cart(counter, mode=card.mode_of_payment, kind=card.type), CASHIER)
    assert not done.open_drawer
    assert done.receipt is not None


def test_a_refund_is_planned_by_the_original_modes_and_handed_over_like_a_sale(
    counter: Counter,
) -> None:
    counter.open_shift(CASHIER, {"Cash": D(100)})
    sold = counter.commit(_cart(counter, mode="Cash", kind="Cash"), CASHIER)
    back = counter.start_return(sold.receipt_no, {1: D(1)})
    refund = counter.refund(back, sold.receipt_no)
    assert refund.is_fully_paid
    assert [(p.mode_of_payment, p.amount) for p in refund.payments] == [("Cash", back.amount_due)]
    done = counter.commit(refund, CASHIER)
    assert done.is_refund and done.open_drawer and done.drawer_reason == "refund"
    assert done.receipt is not None


def test_refund_plan_gives_back_card_first_then_cash() -> None:
    paid = [
        PaidBy("Cash", "Cash", None, D("20.00")),
        PaidBy("Credit Card", "Bank", "1200 - Bank", D("30.00")),
    ]
    plan = refund_plan(D("45.00"), paid)
    assert [(p.mode_of_payment, p.amount, p.account) for p in plan] == [
        ("Credit Card", D("-30.00"), "1200 - Bank"),
        ("Cash", D("-15.00"), None),
    ]
    # The last mode takes whatever is left, even beyond what it paid.
    assert refund_plan(D("60.00"), paid)[-1].amount == D("-30.00")


def test_authority_is_one_policy() -> None:
    ana = CashierCard("ana", "Ana", CashierRole.CASHIER)
    generous = CashierCard("cy", "Cy", CashierRole.CASHIER, max_discount_percentage=D(30))
    bo = CashierCard("bo", "Bo", CashierRole.SUPERVISOR)
    assert may(ana, Action.LINE_DISCOUNT, D(10)) and not may(ana, Action.LINE_DISCOUNT, D(11))
    assert may(generous, Action.CART_DISCOUNT, D(30))
    for action in (Action.PRICE_OVERRIDE, Action.RETURN, Action.NO_SALE, Action.SUPERVISOR_MENU):
        assert not may(ana, action) and may(bo, action)
    assert not may(None, Action.NO_SALE)
    with pytest.raises(ValueError, match="percentage"):
        may(ana, Action.LINE_DISCOUNT)


def test_a_drawer_opening_is_journaled_once_by_the_drawer_itself(counter: Counter) -> None:
    devices = StandInPeripherals(Path("/nonexistent"))
    heard: list[DrawerOpening] = []

    def journal(opening: DrawerOpening) -> None:
        heard.append(opening)
        counter.drawer_opened(CASHIER, opening.reason, opening.ref, opening.device)

    devices.watch(lambda: None, on_drawer=journal)
    devices.open_drawer("sale", "sale-id-1")
    assert [(o.reason, o.ref) for o in heard] == [("sale", "sale-id-1")]
    with counter.read() as session:
        rows = session.scalars(select(JournalEntry).where(JournalEntry.kind == "drawer_open")).all()
        assert [(r.actor, r.ref) for r in rows] == [(CASHIER, "sale-id-1")]
        assert verify(session).intact


def _site_country(counter: Counter, country: str) -> None:
    with unit_of_work(counter.write) as uow:
        doc = {
            "doctype": "System Settings",
            "name": "System Settings",
            "country": country,
            "time_zone": "America/Vancouver",
            "number_format": "#,###.##",
            "rounding_method": "Banker's Rounding",
            "currency_precision": "2",
            "float_precision": "3",
            "modified": "2026-12-07 16:00:00.000000",
        }
        apply_masters(uow.session, [doc])
        uow.commit()


@pytest.mark.parametrize("country", ["Canada", "Mexico"])
def test_a_customer_made_at_the_till_is_addressed_in_the_site_s_country(
    counter: Counter, country: str
) -> None:
    _site_country(counter, country)
    name = counter.create_customer(NewCustomer("Dee Doe", province="Ontario"), CASHIER)
    with counter.read() as session:
        row = session.scalar(select(Customer).where(Customer.offline_id == name))
        assert row is not None
        assert (row.billing_state, row.billing_country) == ("Ontario", country)


def test_a_second_return_never_gives_a_card_back_more_than_it_paid(counter: Counter) -> None:
    counter.open_shift(CASHIER, {"Cash": D(100)})
    card = next(m for m in counter.facts().modes if m.type != "Cash")
    cart = counter.new_cart()
    code = ean13("060000000010")
    cart = counter.on_till(lambda till: till.scan(till.scan(cart, code), code))
    on_card = (cart.amount_due * D("0.6")).quantize(D("0.01"))
    cart = carts.add_payment(
        cart, PaymentLine(card.mode_of_payment, on_card, type=card.type, account=card.account)
    )
    cart = carts.add_payment(cart, PaymentLine("Cash", cart.remaining, type="Cash"))
    sold = counter.commit(cart, CASHIER)
    to_card = D(0)
    for _ in range(2):  # one piece back, then the other
        refund = counter.refund(counter.start_return(sold.receipt_no, {1: D(1)}), sold.receipt_no)
        assert refund.is_fully_paid
        to_card -= sum(
            p.amount for p in refund.payments if p.mode_of_payment == card.mode_of_payment
        )
        counter.commit(refund, CASHIER)
    assert to_card == on_card  # the card gets back what it paid, the rest is cash


@pytest.mark.parametrize("has_territory", [True, False])
def test_a_customer_s_province_is_its_territory_only_where_the_site_has_that_territory(
    counter: Counter, has_territory: bool
) -> None:
    # A stock site's territories are "All Territories" and the countries, not provinces: sent
    # as the Customer's territory link, "Ontario" would be refused, and the customer's sales
    # would wait behind it in the outbox.
    if not has_territory:
        with unit_of_work(counter.write) as uow:
            uow.session.execute(delete(Territory).where(Territory.name == "Ontario"))
            uow.commit()
    name = counter.create_customer(NewCustomer("Dee Doe", province="Ontario"), CASHIER)
    with counter.read() as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.offline_id == name))
        row = session.scalar(select(Customer).where(Customer.offline_id == name))
        assert entry is not None and row is not None
        expected = "Ontario" if has_territory else None
        assert (json.loads(entry.payload)["territory"], row.territory) == (expected, expected)
        assert row.billing_state == "Ontario"  # the address still says where taxes fall

"""Store credit (a gift-card Mode of Payment) end to end against the fake ERPNext in both modes:
the till pulls the credit a customer was given in ERPNext (a refund to the mode), spends it as
a tender up to that balance less its own spending, refuses more with the balance it can count,
the sale lands with its store-credit row, and a shift with a loyalty redemption and a
store-credit tender closes. Credit overspent by another till shows after the next pull."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance.agent.client import ERPNextClient
from appliance.cli import main
from appliance.counter.checkout import Checkout
from appliance.counter.store_credit import store_credit
from appliance.sales import cart as carts
from appliance.sales.cart import Cart, CartError
from appliance.sales.model import PaymentLine
from appliance.store.db import create_db_engine, make_session_factory
from fakeerp import FakeERPNext
from tests.agent.conftest import (
    CASHIER,
    GIFT_CARD,
    barcode,
    make_client,
    make_pusher,
    sync_once,
    write_config,
)
from tests.agent.features import BOTH_MODE_IDS, BOTH_MODES, customer_sale, fake_in_mode, pull
from tests.agent.test_fake_loyalty import CUSTOMER, _program, points_held
from tests.shared import scan_on

GIFT = GIFT_CARD
MODES = (GIFT,)


@pytest.fixture(params=BOTH_MODES, ids=BOTH_MODE_IDS)
def site(request: pytest.FixtureRequest) -> Iterator[tuple[FakeERPNext, str]]:
    yield from fake_in_mode(request.param)


def _credit_given(erp: FakeERPNext, doctype: str, name: str, amount: D, customer: str) -> None:
    """A document in ERPNext with a store-credit row: a refund to the mode (negative, credit
    given, as recorded 530/539) or a sale paid with it (positive, spent elsewhere)."""
    erp.site.load(
        [
            {
                "doctype": doctype,
                "name": name,
                "customer": customer,
                "company": "Prairie Pine Co",
                "docstatus": 1,
                "is_return": int(amount < 0),
                "items": [],
                "payments": [{"mode_of_payment": GIFT, "amount": float(amount)}],
            }
        ]
    )


def _pull(client: ERPNextClient, db_path: Path) -> None:
    pull(client, db_path, store_credit_modes=MODES)


def _sale(till: Checkout, *codes: int, customer: str | None = CUSTOMER) -> Cart:
    return customer_sale(till, customer, *codes)


def test_store_credit_is_spent_up_to_the_pulled_balance_and_lands_in_erpnext(
    site: tuple[FakeERPNext, str], till: Checkout, db_path: Path
) -> None:
    erp, doctype = site
    client = make_client(erp)
    _credit_given(erp, doctype, "CREDIT-1", D(-20), CUSTOMER)
    _pull(client, db_path)
    credit = till.store_credit(CUSTOMER)
    assert credit is not None and (credit.pulled, credit.available) == (D(20), D(20))
    till.open_shift(CASHIER, {"Cash": D(100)})

    cart = _sale(till, 10, 11, 12, 13)
    spend = min(D(15), cart.amount_due - 1)
    paid = carts.add_payment(cart, PaymentLine(GIFT, spend, type="General"))
    paid = carts.add_payment(paid, PaymentLine("Cash", paid.remaining, type="Cash"))
    till.commit(paid, CASHIER)
    credit = till.store_credit(CUSTOMER)
    assert credit is not None and credit.available == D(20) - spend  # counted before sync

    # More than is left: refused at the commit with the balance, nothing written.
    again = _sale(till, 14)
    for n in range(15, 40):  # enough goods to be worth more than the credit left
        if again.amount_due > credit.available + 1:
            break
        again = till.read(scan_on(again, barcode(n)))
    over = credit.available + D("0.01")
    too_much = carts.add_payment(again, PaymentLine(GIFT, over, type="General"))
    too_much = carts.add_payment(too_much, PaymentLine("Cash", too_much.remaining, type="Cash"))
    with pytest.raises(CartError, match=f"has {credit.available} of store credit"):
        till.commit(too_much, CASHIER)
    # A walk-in sale cannot spend anybody's credit.
    walk_in = _sale(till, 14, customer=None)
    with pytest.raises(CartError, match="choose the customer"):
        gift = carts.add_payment(walk_in, PaymentLine(GIFT, D(1), type="General"))
        till.commit(carts.add_payment(gift, PaymentLine("Cash", gift.remaining)), CASHIER)

    report = make_pusher(client, db_path).push()
    assert not report.quarantined and not report.mismatches, report.as_dict()
    landed = [d for d in erp.site.all(doctype) if d["name"] != "CREDIT-1"]
    (invoice,) = landed
    rows = [(p["mode_of_payment"], D(str(p["amount"]))) for p in invoice["payments"]]
    assert rows[0] == (GIFT, spend) and rows[1][0] == "Cash"
    _pull(client, db_path)  # ERPNext's rows now hold the spending: the till's own count is 0
    credit = till.store_credit(CUSTOMER)
    assert credit is not None and credit.spent_here == 0
    assert credit.available == D(20) - spend and not credit.overspent

    # Another till spent the rest and more while offline: seen at the next pull.
    _credit_given(erp, doctype, "ELSEWHERE-1", D(20), CUSTOMER)
    _pull(client, db_path)
    credit = till.store_credit(CUSTOMER)
    assert credit is not None and credit.overspent and credit.available == 0


def test_a_shift_with_points_and_store_credit_closes_in_erpnext(
    site: tuple[FakeERPNext, str], till: Checkout, db_path: Path
) -> None:
    erp, doctype = site
    client = make_client(erp)
    _program(erp)
    points_held(erp, doctype, 500)
    _credit_given(erp, doctype, "CREDIT-1", D(-10), CUSTOMER)
    _pull(client, db_path)
    till.open_shift(CASHIER, {"Cash": D(100)})
    cart = till.redeem_points(_sale(till, 10, 11, 12), 200)
    cart = carts.add_payment(cart, PaymentLine(GIFT, D(5), type="General"))
    cash = cart.remaining
    cart = carts.add_payment(cart, PaymentLine("Cash", cash, type="Cash"))
    till.commit(cart, CASHIER)
    report = till.close_shift(CASHIER, {"Cash": D(100) + cash, GIFT: D(5)})
    assert {m.mode_of_payment: m.expected_amount for m in report.modes} == {
        "Cash": D(100) + cash,
        GIFT: D(5),
    }

    pushed = make_pusher(client, db_path).push()
    assert not pushed.quarantined and not pushed.mismatches, pushed.as_dict()
    erp.site.run_background()
    (closing,) = erp.site.all("POS Closing Entry")
    assert closing["docstatus"] == 1
    (sale,) = [d for d in erp.site.all(doctype) if d["name"] != "CREDIT-1"]
    assert D(str(sale["loyalty_amount"])) == D("2.00")
    assert {p["mode_of_payment"] for p in sale["payments"]} == {GIFT, "Cash"}


def test_sync_once_brings_the_store_credit_of_the_configured_modes(
    site: tuple[FakeERPNext, str],
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The agent as the service runs it: ``[terminal] store_credit_modes`` in the config, one
    ``appliance sync --once``; a customer who spent more than given is named in its summary."""
    erp, doctype = site
    config = write_config(db_path.parent, erp)
    config.write_text(
        config.read_text().replace('id = "DEMO1"', f'id = "DEMO1"\nstore_credit_modes = ["{GIFT}"]')
    )
    monkeypatch.setenv("APPLIANCE_CONFIG", str(config))
    _credit_given(erp, doctype, "CREDIT-1", D(-20), CUSTOMER)
    _credit_given(erp, doctype, "SPENT-1", D(25), "Dev Gagnon 00002")
    code, summary, err = sync_once(capsys)
    assert code == 0, err
    assert summary["pull"]["complete"]
    with make_session_factory(create_db_engine(db_path), read_only=True)() as session:
        credit = store_credit(session, CUSTOMER, MODES)
        assert credit is not None and credit.available == D(20)
    # The conflict, said after the sync: ERPNext took the sale, the customer owes 25.
    assert summary["pull"]["store_credit_overspent"] == {"Dev Gagnon 00002": "25.00"}
    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_pull"]["store_credit_overspent"] == {"Dev Gagnon 00002": "25.00"}

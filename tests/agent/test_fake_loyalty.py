"""Loyalty points end to end: the fake ERPNext answers them as the recordings show
(tests/data/erpnext/features/ §1, both modes), a till earns points on a customer's sale and
redeems them offline as part payment against the pulled balance less its own redemptions, the
sale lands with the loyalty amount the till computed, and a shift with a redemption closes."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.counter.checkout import Checkout
from appliance.sales import cart as carts
from appliance.sales.cart import Cart, CartError
from appliance.sales.model import PaymentLine
from fakeerp import FakeERPNext
from fakeerp.loyalty import DETAILS_METHOD
from tests.agent.conftest import CASHIER, barcode, make_client, make_pusher
from tests.agent.features import (
    BOTH_MODE_IDS,
    BOTH_MODES,
    PI,
    SI,
    customer_sale,
    fake_in_mode,
    pull,
    recorded_error,
)

CUSTOMER = "Lea Nguyen 00001"
PROGRAM = "FX Points"


@pytest.fixture(params=BOTH_MODES, ids=BOTH_MODE_IDS)
def site(request: pytest.FixtureRequest) -> Iterator[tuple[FakeERPNext, str]]:
    for fake, doctype in fake_in_mode(request.param):
        _program(fake)
        yield fake, doctype


def _program(erp: FakeERPNext) -> None:
    """The recorded program (101/104): 1 point per 1.00 spent, a point worth 0.01."""
    erp.site.load(
        [
            {
                "doctype": "Loyalty Program",
                "name": PROGRAM,
                "loyalty_program_name": PROGRAM,
                "loyalty_program_type": "Single Tier Program",
                "company": "Prairie Pine Co",
                "from_date": "2026-01-01",
                "auto_opt_in": 0,
                "conversion_factor": 0.01,
                "expiry_duration": 365,
                "expense_account": "Marketing Expenses - PPC",
                "cost_center": "Main - PPC",
                "collection_rules": [
                    {"tier_name": "FX Base", "min_spent": 0, "collection_factor": 1}
                ],
            }
        ]
    )
    erp.site.touch("Customer", CUSTOMER, loyalty_program=PROGRAM)


def points_held(erp: FakeERPNext, doctype: str, points: int) -> None:
    """The customer earned ``points`` on an earlier sale, still valid."""
    erp.site.load(
        [
            {
                "doctype": "Loyalty Point Entry",
                "name": "lpe-opening",
                "loyalty_program": PROGRAM,
                "customer": CUSTOMER,
                "invoice_type": doctype,
                "invoice": "OLD-1",
                "loyalty_points": points,
                "purchase_amount": points,
                "expiry_date": "2099-01-01",
                "company": "Prairie Pine Co",
            }
        ]
    )


def _open(client: ERPNextClient, erp: FakeERPNext) -> None:
    client.insert(
        "POS Opening Entry",
        {
            "company": "Prairie Pine Co",
            "pos_profile": "Main POS",
            "user": erp.user,
            "period_start_date": erp.site.now().strftime("%Y-%m-%d %H:%M:%S"),
            "posting_date": erp.site.now().date().isoformat(),
            "balance_details": [{"mode_of_payment": "Cash", "opening_amount": 0}],
            "docstatus": 1,
        },
    )


def _balance(client: ERPNextClient, customer: str = CUSTOMER) -> Any:
    return client.call(
        DETAILS_METHOD, customer=customer, loyalty_program=PROGRAM, company="Prairie Pine Co"
    )


def test_the_fake_books_points_at_submit_and_refuses_more_than_the_balance(
    site: tuple[FakeERPNext, str], checkout: Checkout
) -> None:
    erp, doctype = site
    client = make_client(erp)
    _open(client, erp)
    item = checkout.read(lambda till: till.scan(checkout.new_cart(), barcode(10))).lines[0]
    assert _balance(client)["loyalty_points"] == 0  # 103/106
    sale: dict[str, Any] = {
        "customer": CUSTOMER,
        "company": "Prairie Pine Co",
        "pos_profile": "Main POS",
        "currency": "CAD",
        "selling_price_list": "Standard Selling",
        "set_warehouse": "Stores - PPC",
        "is_pos": 1,
        "update_stock": 1,
        "items": [{"item_code": item.item_code, "qty": 3, "rate": 9.70}],
        "payments": [{"mode_of_payment": "Cash", "account": "Cash - PPC", "amount": 1000}],
        "paid_amount": 1000,
        "docstatus": 1,
    }
    if doctype == SI:
        sale["is_created_using_pos"] = 1
    earned = client.insert(doctype, sale).doc
    assert earned["loyalty_program"] == PROGRAM  # filled from the customer (107/108)
    (entry,) = client.get_list(
        "Loyalty Point Entry",
        fields=["invoice_type", "invoice", "loyalty_points"],
        filters=[["customer", "=", CUSTOMER]],
    )
    grand = D(str(earned["grand_total"]))
    assert entry == {
        "invoice_type": doctype,  # at the POS Invoice's submit on 15, the Sales Invoice's on 16
        "invoice": earned["name"],
        "loyalty_points": int(grand),
    }
    assert _balance(client)["loyalty_points"] == int(grand)

    status, exc_type, message = recorded_error(
        "115_v15_loyalty_redeem_insufficient_balance"
        if doctype == PI
        else "116_v16_loyalty_redeem_insufficient_balance"
    )
    with pytest.raises(ERPNextError) as refused:
        client.insert(doctype, {**sale, "redeem_loyalty_points": 1, "loyalty_points": 1000})
    assert (refused.value.status, refused.value.exc_type) == (status, exc_type)
    assert message in str(refused.value)

    # A client-sent loyalty_amount is booked as sent (surprise 1: 128/131, 126/132).
    trusted = client.insert(
        doctype,
        {**sale, "redeem_loyalty_points": 1, "loyalty_points": 20, "loyalty_amount": 5.0},
    ).doc
    assert float(trusted["loyalty_amount"]) == 5.0

    status, exc_type, message = recorded_error("138_v15_loyalty_balance_customer_not_enrolled")
    with pytest.raises(ERPNextError) as not_enrolled:
        _balance(client, "Dev Gagnon 00002")
    assert (not_enrolled.value.status, not_enrolled.value.exc_type) == (status, exc_type)
    assert message in str(not_enrolled.value)


def _customer_sale(checkout: Checkout, *codes: int) -> Cart:
    return customer_sale(checkout, CUSTOMER, *codes)


def test_points_earned_online_are_redeemed_offline_and_land_as_the_till_computed_them(
    site: tuple[FakeERPNext, str], checkout: Checkout, db_path: Path
) -> None:
    erp, doctype = site
    client = make_client(erp)
    pull(client, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    assert checkout.loyalty(None) is None  # the walk-in customer collects nothing
    account = checkout.loyalty(CUSTOMER)
    assert account is not None and (account.pulled, account.available) == (0, 0)

    first = _customer_sale(checkout, 10, 11, 12)
    assert first.totals is not None
    paid = carts.add_payment(first, PaymentLine("Cash", first.amount_due, type="Cash"))
    done = checkout.commit(paid, CASHIER)
    expected_earned = int(first.totals.grand_total)
    with checkout.reading() as session:
        from appliance.store.sales import find_sale

        stored = find_sale(session, done.offline_id)
        assert stored is not None and stored.loyalty_earned == expected_earned
    report = make_pusher(client, db_path).push()
    assert not report.quarantined and not report.mismatches, report.as_dict()
    pull(client, db_path)  # ERPNext's entry comes back: the points can be spent
    account = checkout.loyalty(CUSTOMER)
    assert account is not None and account.available == expected_earned

    # Offline: redeem some points as part payment, then pay the rest in cash.
    second = _customer_sale(checkout, 13)
    assert second.totals is not None
    points = min(account.available, 150)
    redeemed = checkout.redeem_points(second, points)
    amount = (D(points) * D("0.01")).quantize(D("0.01"))
    assert redeemed.loyalty_amount == amount
    assert redeemed.remaining == second.amount_due - amount
    paid = carts.add_payment(redeemed, PaymentLine("Cash", redeemed.remaining, type="Cash"))
    checkout.commit(paid, CASHIER)
    # Not synced yet: this till counts its own redemption against the balance.
    account = checkout.loyalty(CUSTOMER)
    assert account is not None
    assert (account.redeemed_here, account.available) == (points, expected_earned - points)
    with pytest.raises(CartError, match="to redeem"):
        checkout.redeem_points(_customer_sale(checkout, 14), account.available + 1)

    # Its return is not made at the till: a refund by the till's modes would pay the points
    # back as cash.
    with pytest.raises(CartError, match="make this return in ERPNext"):
        checkout.return_source(paid.offline_id)

    report = make_pusher(client, db_path).push()
    assert not report.quarantined and not report.mismatches, report.as_dict()
    invoice = max(erp.site.all(doctype), key=lambda d: d["name"])
    assert (invoice["redeem_loyalty_points"], invoice["loyalty_points"]) == (1, points)
    assert D(str(invoice["loyalty_amount"])) == amount
    assert D(str(invoice["paid_amount"])) == second.amount_due  # cash + points
    assert float(invoice.get("outstanding_amount") or 0) == 0
    earned_now = int(second.totals.grand_total - int(amount))
    assert _balance(client)["loyalty_points"] == expected_earned - points + earned_now

    pull(client, db_path)  # ERPNext's balance replaces the till's own count
    account = checkout.loyalty(CUSTOMER)
    assert account is not None and account.redeemed_here == 0
    assert account.available == expected_earned - points + earned_now


def test_a_shift_with_a_loyalty_redemption_closes_in_erpnext(
    site: tuple[FakeERPNext, str], checkout: Checkout, db_path: Path
) -> None:
    erp, doctype = site
    client = make_client(erp)
    points_held(erp, doctype, 500)
    pull(client, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = checkout.redeem_points(_customer_sale(checkout, 10, 11), 300)
    cash = cart.remaining
    cart = carts.add_payment(cart, PaymentLine("Cash", cash, type="Cash"))
    checkout.commit(cart, CASHIER)
    report = checkout.close_shift(CASHIER, {"Cash": D(100) + cash})
    # The points are no tender in the drawer: the cash expected is the cash taken.
    assert [(m.mode_of_payment, m.expected_amount) for m in report.modes] == [
        ("Cash", D(100) + cash)
    ]

    pushed = make_pusher(client, db_path).push()
    assert not pushed.quarantined and not pushed.mismatches, pushed.as_dict()
    erp.site.run_background()
    (closing,) = erp.site.all("POS Closing Entry")
    assert closing["docstatus"] == 1 and closing.get("status") in ("Submitted", None), closing
    (sale,) = erp.site.all(doctype)
    assert D(str(sale["loyalty_amount"])) == D("3.00")


def test_a_return_of_an_earning_sale_takes_its_points_back_on_the_till_too(
    site: tuple[FakeERPNext, str], checkout: Checkout, db_path: Path
) -> None:
    """ERPNext replaces the sale's entry by one on the net amount (recorded 143-150); the till's
    balance follows at the next pull."""
    erp, _ = site
    client = make_client(erp)
    pull(client, db_path)
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = _customer_sale(checkout, 10, 11)
    sale = checkout.commit(
        carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash")), CASHIER
    )
    original, _ = checkout.return_source(sale.receipt_no)
    first = original.lines[0]
    back = checkout.start_return(sale.receipt_no, {first.line_id: first.qty})
    back = carts.add_payment(back, PaymentLine("Cash", back.amount_due, type="Cash"))
    checkout.commit(back, CASHIER)
    report = make_pusher(client, db_path).push()
    assert not report.quarantined and not report.mismatches, report.as_dict()

    assert cart.totals is not None and back.totals is not None
    net = int(cart.totals.grand_total + back.totals.grand_total)
    assert _balance(client)["loyalty_points"] == net
    pull(client, db_path)
    account = checkout.loyalty(CUSTOMER)
    assert account is not None and account.available == net


def test_the_v15_fake_wants_paid_amount_with_the_points_again_when_a_draft_is_submitted(
    checkout: Checkout,
) -> None:
    """Surprise 2: a draft keeps only its rows' sum as paid_amount; the PUT that submits it
    without the points' part is refused as a partial payment (117, 119, 121)."""
    for erp, doctype in fake_in_mode((15, PI)):
        _program(erp)
        points_held(erp, doctype, 500)
        client = make_client(erp)
        _open(client, erp)
        item = checkout.read(lambda till: till.scan(checkout.new_cart(), barcode(10))).lines[0]
        draft = client.insert(
            PI,
            {
                "customer": CUSTOMER,
                "company": "Prairie Pine Co",
                "pos_profile": "Main POS",
                "currency": "CAD",
                "items": [{"item_code": item.item_code, "qty": 1, "rate": 12.99}],
                "payments": [{"mode_of_payment": "Cash", "amount": 11.55}],
                "paid_amount": 14.55,
                "redeem_loyalty_points": 1,
                "loyalty_points": 300,
            },
        ).doc
        assert (draft["loyalty_amount"], draft["paid_amount"]) == (3.0, 11.55)  # 117
        status, exc_type, message = recorded_error("119_v15_loyalty_redeem_submit_draft_cash_12")
        with pytest.raises(ERPNextError) as refused:
            client.update(PI, draft["name"], {"docstatus": 1})
        assert (refused.value.status, refused.value.exc_type) == (status, exc_type)
        assert message in str(refused.value)
        total = draft["rounded_total"] or draft["grand_total"]
        done = client.update(PI, draft["name"], {"paid_amount": total, "docstatus": 1})  # 121
        assert done["docstatus"] == 1 and done["status"] == "Paid"

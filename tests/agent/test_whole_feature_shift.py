"""Issue 19's whole shift: one shift on one till with a coupon, a free item, a serial item and a
batch item, a sales person, a loyalty redemption and a store-credit tender, pulled from and sent
to the fake ERPNext over real HTTP in both POS modes (15: POS Invoice, 16: Sales Invoice); the
shift then closes in ERPNext with every sale in it, each as the till computed it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance.counter.checkout import Checkout
from appliance.demo.masters import SERIALS, all_masters, numbered_docs
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, barcode, make_client, make_pusher
from tests.agent.features import BOTH_MODE_IDS, BOTH_MODES, customer_sale, pull
from tests.agent.test_fake_loyalty import CUSTOMER, _program, points_held
from tests.agent.test_fake_store_credit import GIFT, MODES, _credit_given
from tests.agent.test_sale_details_e2e import COUPON, OFFERS, _detailed_sale
from tests.shared import scan_on


def _free_item_rule(checkout: Checkout) -> dict[str, object]:
    """Buy two of demo item 11, get one of item 12 free (a product Pricing Rule)."""
    bought, free = (
        checkout.read(scan_on(checkout.new_cart(), barcode(n))).lines[0] for n in (11, 12)
    )
    return {
        "doctype": "Pricing Rule",
        "name": "PRLE-FREE",
        "title": "Buy 2 get 1",
        "apply_on": "Item Code",
        "items": [{"item_code": bought.item_code}],
        "price_or_product_discount": "Product",
        "min_qty": 2,
        "free_item": free.item_code,
        "free_qty": 1,
        "selling": 1,
        "currency": "CAD",
        "disable": 0,
    }


@pytest.fixture(params=BOTH_MODES, ids=BOTH_MODE_IDS)
def site(request: pytest.FixtureRequest) -> Iterator[tuple[FakeERPNext, str]]:
    version, doctype = request.param
    options: dict[str, object] = {"version": version}
    if version == 16:
        options["invoice_type"] = doctype
    with FakeERPNext([*all_masters(SMALL), *numbered_docs(), *OFFERS], **options) as erp:  # type: ignore[arg-type]
        yield erp, doctype


def test_a_shift_with_every_counter_feature_closes_in_erpnext(
    site: tuple[FakeERPNext, str], till: Checkout, db_path: Path
) -> None:
    erp, doctype = site
    _program(erp)
    points_held(erp, doctype, 500)
    _credit_given(erp, doctype, "CREDIT-1", D(-10), CUSTOMER)
    erp.site.load([_free_item_rule(till)])
    client = make_client(erp)
    pull(client, db_path, store_credit_modes=MODES)
    till.open_shift(CASHIER, {"Cash": D(150)})

    # 1. A case of 12, a drill by its serial, paint from a batch, a sales person, a note and
    # the coupon; paid cash.
    detailed = _detailed_sale(till)
    # 2. The loyalty customer: 200 points (2.00) and 5.00 of store credit, the rest cash.
    loyal = till.redeem_points(customer_sale(till, CUSTOMER, 10, 11, 12), 200)
    loyal = carts.add_payment(loyal, PaymentLine(GIFT, D(5), type="General"))
    loyal = carts.add_payment(loyal, PaymentLine("Cash", loyal.remaining, type="Cash"))
    till.commit(loyal, CASHIER)
    # 3. Two of item 11 bring item 12 free.
    free = till.new_cart()
    for _ in range(2):
        free = till.read(scan_on(free, barcode(11)))
    assert [line.is_free_item for line in free.lines] == [False, True]
    free = carts.add_payment(free, PaymentLine("Cash", free.amount_due, type="Cash"))
    till.commit(free, CASHIER)

    report = till.close_shift(CASHIER, {"Cash": D(500), GIFT: D(5)})
    assert (report.sales_count, report.returns_count) == (3, 0)
    pushed = make_pusher(client, db_path).push()
    assert not pushed.quarantined and not pushed.mismatches, pushed.as_dict()
    erp.site.run_background()

    (closing,) = erp.site.all("POS Closing Entry")
    assert closing["docstatus"] == 1
    (opening,) = erp.site.all("POS Opening Entry")
    assert opening["status"] == "Closed"
    sent = {d["offline_id"]: d for d in erp.site.all(doctype) if d.get("offline_id")}
    assert set(sent) == {detailed, loyal.offline_id, free.offline_id}
    assert sent[detailed]["coupon_code"] == COUPON
    assert sent[detailed]["items"][1]["serial_no"] == SERIALS[0]
    assert sent[detailed]["sales_team"][0]["allocated_percentage"] == 100
    assert D(str(sent[loyal.offline_id]["loyalty_amount"])) == D("2.00")
    assert {p["mode_of_payment"] for p in sent[loyal.offline_id]["payments"]} == {GIFT, "Cash"}
    assert [bool(r.get("is_free_item")) for r in sent[free.offline_id]["items"]] == [False, True]
    for cart in (loyal, free):
        assert cart.totals is not None
        assert D(str(sent[cart.offline_id]["grand_total"])) == cart.totals.grand_total
    assert erp.site.docs["Coupon Code"][COUPON]["used"] == 1

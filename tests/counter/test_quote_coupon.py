"""`appliance quote` with a `coupon_code`: the coupon is found in the store by its printed code
or name, the invoice names the document, and its rule prices the lines it covers as ERPNext
does (a rate sent is replaced, recorded 235/240)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.masters import apply_masters
from appliance.store.models import Item, ItemPrice
from tests.shared import quote


def _coupon_on_an_item(data_dir: Path) -> tuple[str, float]:
    """A coupon rule for one priced demo item, and that item's list price."""
    factory = make_session_factory(create_db_engine(data_dir / "pos.db"))
    with unit_of_work(factory) as uow:
        code, rate = uow.session.execute(
            select(Item.item_code, ItemPrice.price_list_rate)
            .join(ItemPrice, ItemPrice.item_code == Item.item_code)
            .where(ItemPrice.price_list == "Standard Selling")
            .limit(1)
        ).one()
        apply_masters(
            uow.session,
            [
                {
                    "doctype": "Pricing Rule",
                    "name": "PRLE-Q1",
                    "apply_on": "Item Code",
                    "items": [{"item_code": code}],
                    "coupon_code_based": 1,
                    "selling": 1,
                    "currency": "CAD",
                    "rate_or_discount": "Discount Percentage",
                    "discount_percentage": 10,
                },
                {
                    "doctype": "Coupon Code",
                    "name": "FXSAVE10M",
                    "coupon_code": "FXSAVEM",
                    "pricing_rule": "PRLE-Q1",
                    "maximum_use": 0,
                    "used": 0,
                },
            ],
        )
        uow.commit()
    return code, float(rate)


def test_a_coupon_typed_as_printed_prices_the_line_and_names_the_document(data_dir: Path) -> None:
    code, list_price = _coupon_on_an_item(data_dir)
    line = {"item_code": code, "qty": 1, "rate": 0.01}  # a deeper rate is replaced (235)
    run = quote({"coupon_code": "fxsavem", "items": [line], "taxes": []})
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["coupon_code"] == "FXSAVE10M"
    (row,) = doc["items"]
    assert row["discount_percentage"] == 10.0
    # The same line as a till sends it with the coupon (recorded 233: accepted unchanged).
    explicit = {
        "item_code": code,
        "qty": 1,
        "price_list_rate": list_price,
        "discount_percentage": 10,
    }
    plain = json.loads(quote({"items": [explicit], "taxes": []}).stdout)
    assert row["rate"] == plain["items"][0]["rate"] < list_price
    assert doc["grand_total"] == plain["grand_total"]


def test_ignore_pricing_rule_keeps_the_callers_rate(data_dir: Path) -> None:
    code, _ = _coupon_on_an_item(data_dir)
    line = {"item_code": code, "qty": 1, "rate": 5}
    run = quote(
        {"coupon_code": "FXSAVE10M", "ignore_pricing_rule": 1, "items": [line], "taxes": []}
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["items"][0]["rate"] == 5.0


def test_an_unknown_coupon_is_a_clear_error(data_dir: Path) -> None:
    run = quote({"coupon_code": "NOPE", "items": [{"item_code": "X", "qty": 1, "rate": 1}]})
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip() == "doc.coupon_code: no coupon 'NOPE' on this till"

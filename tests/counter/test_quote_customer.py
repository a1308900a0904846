"""`appliance quote` for a named customer takes its taxes from the store's Tax Rules."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from appliance.demo.masters import ACC_GST, ACC_HST, ACC_LEVY, ACC_PST
from tests.shared import quote


def _customer_in(data_dir: Path, province: str | None, exempt: bool = False) -> str:
    from appliance.store.db import create_db_engine, make_session_factory
    from appliance.store.models import Customer

    with make_session_factory(create_db_engine(data_dir / "pos.db"))() as session:
        query = select(Customer.name)
        if province:
            query = query.where(Customer.billing_state == province)
        wanted = "Tax Exempt" if exempt else ""
        query = query.where(func.coalesce(Customer.tax_category, "") == wanted)
        name = session.scalar(query.limit(1))
    assert name, f"the demo store has no customer in {province}"
    return name


def _lines() -> list[dict[str, object]]:
    # SKU-000010 is a non-fuel demo item; its group's template zeroes the carbon levy.
    return [{"item_code": "SKU-000010", "qty": 2, "rate": 10}]


def test_an_ontario_customer_pays_hst(data_dir: Path) -> None:
    run = quote({"customer": _customer_in(data_dir, "Ontario"), "items": _lines()})
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert [t["account_head"] for t in doc["taxes"]] == [ACC_LEVY, ACC_HST]
    assert doc["taxes_and_charges"].startswith("ON HST")


def test_a_bc_customer_pays_gst_and_pst(data_dir: Path) -> None:
    run = quote({"customer": _customer_in(data_dir, "British Columbia"), "items": _lines()})
    assert run.returncode == 0, run.stderr
    accounts = [t["account_head"] for t in json.loads(run.stdout)["taxes"]]
    assert accounts == [ACC_LEVY, ACC_GST, ACC_PST]


def test_an_unknown_customer_is_a_clear_error(data_dir: Path) -> None:
    run = quote({"customer": "Nobody At All", "items": _lines()})
    assert run.returncode == 2
    assert run.stderr.startswith("doc.customer: Customer 'Nobody At All' is not in this till")


def test_a_tax_exempt_customer_pays_no_tax(data_dir: Path) -> None:
    run = quote({"customer": _customer_in(data_dir, None, exempt=True), "items": _lines()})
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["taxes"] == [] and doc["grand_total"] == 20.0


def test_the_callers_numbers_are_checked_before_the_store_resolves_taxes(data_dir: Path) -> None:
    """The Tax Rules read each line's rate: a hostile one is refused first, in one line."""
    customer = _customer_in(data_dir, "Ontario")
    for rate, problem in (("ten", "must be a number"), ("1e400", "at or above 10^12")):
        line = {"item_code": "SKU-000010", "qty": 1, "rate": rate}
        run = quote({"customer": customer, "items": [line]})
        assert run.returncode == 2 and run.stdout == ""
        assert run.stderr.count("\n") == 1 and f"doc.items[0].rate: {problem}" in run.stderr

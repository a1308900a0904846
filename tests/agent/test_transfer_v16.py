"""A USB bundle imported at head office into an ERPNext 16 site in "Sales Invoice" mode.

The importer has no store: the payment rows' accounts and the site's date come from ERPNext."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from appliance.config import load_config
from appliance.counter.checkout import Checkout
from appliance.counter.commands import open_checkout
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import all_masters
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.models import ModeOfPaymentAccount
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, sell
from tests.agent.test_transfer import Site, _cli, _export, site  # noqa: F401 (the fixture)

SI = "Sales Invoice"


@pytest.fixture
def erp() -> Iterator[FakeERPNext]:
    """Overrides conftest's: ``site`` (head office and terminal) then talks to a v16 fake."""
    with FakeERPNext(all_masters(SMALL), version=16, invoice_type=SI) as fake:
        yield fake


def _zone_on_another_day() -> str:
    """A time zone whose date differs from this machine's: the site's date must come from
    ERPNext, not from the importing machine's clock."""
    here = datetime.now().date()
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        if datetime.now(UTC).astimezone(ZoneInfo(zone)).date() != here:
            return zone
    return "Pacific/Kiritimati"  # both equal only near noon UTC: the test still runs


@pytest.fixture
def checkout(db_path: Path) -> Iterator[Checkout]:
    """A terminal whose masters have no payment accounts (e.g. pulled before they were set)."""
    with unit_of_work(make_session_factory(create_db_engine(db_path))) as uow:
        uow.session.execute(delete(ModeOfPaymentAccount))
        uow.commit()
    co = open_checkout(load_config(DEMO_CONFIG), db_path)
    yield co
    co.close()


def test_a_bundle_imports_into_a_v16_sales_invoice_site(
    checkout: Checkout,
    site: Site,  # noqa: F811 (the fixture imported above)
    erp: FakeERPNext,
) -> None:
    erp.site.touch("System Settings", "System Settings", time_zone=_zone_on_another_day())
    yesterday = erp.site.now() - timedelta(days=1)
    checkout.clock = lambda: yesterday.replace(hour=21, minute=0, second=0, microsecond=0)
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    sales = [sell(checkout, 10), sell(checkout, 11, change=D(5))]
    checkout.close_shift(CASHIER, {"Cash": D(120)})
    bundle, _ = _export(site)
    documents = [json.loads(line) for line in bundle.read_text().splitlines()[1:-1]]
    payments = [p for d in documents for p in d.get("payload", {}).get("payments", [])]
    assert payments and not any(p.get("account") for p in payments)

    code, summary, err = _cli(site.office_env, "import", str(bundle))
    assert code == 0, (err, summary)
    assert summary is not None and summary["created"] == 4 and summary["quarantined"] == 0

    invoices = erp.site.all(SI)
    assert sorted(i["offline_id"] for i in invoices) == sorted(s.offline_id for s in sales)
    cash = erp.site.get("Mode of Payment", "Cash")["accounts"][0]["default_account"]
    assert {p["account"] for i in invoices for p in i["payments"]} == {cash}
    (opening,) = erp.site.all("POS Opening Entry")
    # Opened on the site's today (its own time zone), so its sales were not "outdated".
    assert opening["period_start_date"][:10] == erp.site.now().date().isoformat()
    assert opening["status"] == "Closed"
    assert {i["posting_date"] for i in invoices} == {yesterday.date().isoformat()}

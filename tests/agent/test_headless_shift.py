"""A whole shift without the screen, against the fake ERPNext in both POS modes: `appliance
simulate --sales N --close-shift` sells and closes through the counter's own path, `appliance sync
--once` sends it; ERPNext ends with every sale once, consolidated by one submitted closing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from appliance.demo.masters import all_masters
from fakeerp import FakeERPNext
from tests.agent.conftest import SMALL, write_config
from tests.shared import appliance as _appliance

SALES = 25


@pytest.fixture(params=[(15, "POS Invoice"), (16, "Sales Invoice")], ids=["v15-pos", "v16-si"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeERPNext]:
    version, invoice_type = request.param
    with FakeERPNext(all_masters(SMALL), version=version, invoice_type=invoice_type) as erp:
        yield erp


def test_a_whole_shift_headless_lands_and_closes(
    db_path: Path, tmp_path: Path, fake: FakeERPNext
) -> None:
    config = write_config(tmp_path, fake)
    env = dict(os.environ, APPLIANCE_DATA=str(db_path.parent), APPLIANCE_CONFIG=str(config))

    run = _appliance("simulate", "--sales", str(SALES), "--seed", "7", "--close-shift", env=env)
    assert run.returncode == 0, run.stderr
    summary: dict[str, Any] = json.loads(run.stdout)
    closed = summary["closed_shift"]
    assert closed["invoices"] + closed["returns"] == SALES
    assert D(closed["over_short"]) == 0  # counted as expected, mode by mode

    for _ in range(5):  # a cycle pushes a bounded number of batches
        sync = _appliance("sync", "--once", env=env)
        assert sync.returncode == 0, sync.stdout + sync.stderr
        push = json.loads(sync.stdout)["push"]
        assert not push["quarantined"], push
        if push["created"] + push["found"] == 0:
            break
    doctype = "Sales Invoice" if fake.site.version >= 16 else "POS Invoice"
    invoices = fake.site.all(doctype)
    assert len(invoices) == SALES
    assert len({i["offline_id"] for i in invoices}) == SALES  # once each
    (closing,) = fake.site.all("POS Closing Entry")
    assert closing["docstatus"] == 1
    (opening,) = fake.site.all("POS Opening Entry")
    assert opening["status"] == "Closed"

    again = _appliance("simulate", "--sales", "0", "--close-shift", env=env)
    assert again.returncode == 1 and "No shift is open" in again.stderr

"""ERPNext 16 allows one open POS Opening Entry per POS Profile and one per user (README "Stock
deployments"). A till whose opening is refused for either rule keeps selling, says why (status,
health, journal, the exit of ``sync --once``) and sends the opening again by itself: once the
other shift is closed, the opening and every sale held behind it go through. ERPNext 15 has
neither rule. All over real HTTP against the fake, in both POS modes of 16."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import main
from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from fakeerp import FakeERPNext
from tests.agent.conftest import (
    CASHIER,
    SMALL,
    journal_of,
    open_shift_over_http,
    sell,
    sync_once,
    write_config,
)
from tests.support.conftest import units_file

OTHER_TILL = ("till2-key", "till2-secret", "till2@example.com")


def _fake(version: int, invoice_type: str) -> FakeERPNext:
    masters = list(all_masters(SMALL))
    main_pos = next(d for d in masters if d["doctype"] == "POS Profile")
    other = copy.deepcopy(main_pos)
    other["name"] = "Till 2 POS"
    fake = FakeERPNext([*masters, other], version=version, invoice_type=invoice_type)
    key, secret, user = OTHER_TILL
    fake.site.users[key] = (secret, user)
    fake.site.meta.give_roles([user])
    fake.site.load([{"doctype": "User", "name": user}])
    return fake


@pytest.fixture(params=["Sales Invoice", "POS Invoice"], ids=["v16-si", "v16-pos"])
def erp16(request: pytest.FixtureRequest) -> Iterator[FakeERPNext]:
    with _fake(16, request.param) as fake:
        yield fake


def _open_elsewhere(erp: FakeERPNext, pos_profile: str, as_user: tuple[str, str, str]) -> str:
    """Another till opens a shift in ERPNext (over HTTP, as that till's user)."""
    answer = open_shift_over_http(erp, pos_profile, as_user, opening_amount=20)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["name"])


def _sales(erp: FakeERPNext) -> list[dict[str, Any]]:
    return erp.site.all("Sales Invoice") + erp.site.all("POS Invoice")


@pytest.mark.parametrize(
    ("rule", "said", "fix"),
    [
        ("profile", "Main POS is open. Close the POS", "give each till its own POS Profile"),
        (
            "user",
            "Cashier is currently assigned to another POS.",
            "give each till its own ERPNext user and API key",
        ),
    ],
)
def test_a_refused_opening_is_named_then_goes_through_with_its_sales(
    *,
    rule: str,
    said: str,
    fix: str,
    checkout: Checkout,
    db_path: Path,
    tmp_path: Path,
    erp16: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp16)))
    if rule == "profile":  # another till shares this till's POS Profile
        blocker = _open_elsewhere(erp16, "Main POS", OTHER_TILL)
    else:  # another till runs under this till's ERPNext user
        me = (erp16.api_key, erp16.api_secret, erp16.user)
        blocker = _open_elsewhere(erp16, "Till 2 POS", me)
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    sell(checkout, 10)
    sell(checkout, 11)

    code, summary, err = sync_once(capsys)
    assert code == 1 and fix in err and said in err
    assert summary["push"]["quarantined"] == []  # not a poison document: it is retried
    assert _sales(erp16) == [] and len(erp16.site.all("POS Opening Entry")) == 1
    assert main(["status"]) == 0
    shift = json.loads(capsys.readouterr().out)["shift"]
    assert shift["refused"]["rule"] == rule
    assert shift["problem"]["short"] == "SHIFT REFUSED by ERPNext: call IT"
    assert main(["health", "--units-from", str(units_file(tmp_path))]) == 1
    health = json.loads(capsys.readouterr().out)["checks"]["sync"]
    assert health["ok"] is False and fix in health["status"]

    sync_once(capsys)  # refused again: journalled once
    (refused,) = journal_of(db_path, "shift_refused")
    assert json.loads(refused.data)["rule"] == rule and said in json.loads(refused.data)["message"]

    # IT closes the other shift in ERPNext; the till's next cycles send everything.
    erp16.site.touch("POS Opening Entry", blocker, status="Closed")
    for _ in range(20):
        code, summary, err = sync_once(capsys)
        if code == 0 and len(_sales(erp16)) == 2:
            break
    assert code == 0, err
    assert len(_sales(erp16)) == 2 and summary["shift_problem"] is None
    assert main(["status"]) == 0
    assert json.loads(capsys.readouterr().out)["shift"]["refused"] is None


def test_erpnext_15_lets_two_tills_share_a_profile_and_a_user(
    checkout: Checkout,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _fake(15, "POS Invoice") as erp:
        monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
        _open_elsewhere(erp, "Main POS", (erp.api_key, erp.api_secret, erp.user))
        checkout.open_shift(CASHIER, {"Cash": D(50)})
        sell(checkout, 10)
        code, _, err = sync_once(capsys)
        assert code == 0, err
        assert len(erp.site.all("POS Opening Entry")) == 2 and len(_sales(erp)) == 1


def test_the_fake_16_refuses_a_second_opening_for_a_user_in_erpnexts_words() -> None:
    with _fake(16, "Sales Invoice") as erp:
        me = (erp.api_key, erp.api_secret, erp.user)
        _open_elsewhere(erp, "Main POS", me)
        second = open_shift_over_http(erp, "Till 2 POS", me)
        assert second.status_code == 417
        body = second.json()
        assert body["exc_type"] == "ValidationError"
        (message,) = [json.loads(m) for m in json.loads(body["_server_messages"])]
        assert message["message"] == "Cashier is currently assigned to another POS."
        assert message["title"] == "Cannot Assign Cashier"

"""A till's API key reaches its own POS Appliance Terminal record only.

The attack: root on one till has that till's API key. The integration role (Accounts User) may
write the terminal registry, and Frappe grants a role's rights on every record, so the key could
set another till's `target_release`, tick or clear its support requests, mark it healthy, or
read every till's hostname. `appliance erpnext setup` (run by IT with an administrator's key)
fences each till's ERPNext user to its own record with a Frappe User Permission; the fake
applies User Permissions the way Frappe's `has_user_permission` and list queries do.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.schema import REPORT_FIELDS, TERMINAL_DOCTYPE
from appliance.agent.setup import Status, run_setup
from appliance.demo.masters import all_masters
from fakeerp import FakeERPNext
from tests.agent.conftest import SMALL

STOCK_ROLES = ["Accounts User", "Sales Manager", "Sales User", "Stock User"]
TILLS = {"MS1": "pos-ms1@example.com", "MS2": "pos-ms2@example.com"}


@pytest.fixture
def site() -> Iterator[FakeERPNext]:
    """Two tills, each with its own ERPNext user holding the stock integration roles only."""
    with FakeERPNext(all_masters(SMALL), set_up=False) as erp:
        erp.site.users.clear()
        erp.site.users["admin-key"] = ("admin-secret", "Administrator")
        for till, user in TILLS.items():
            erp.site.users[f"{till.lower()}-key"] = (f"{till.lower()}-secret", user)
            roles = [{"role": r} for r in STOCK_ROLES]
            erp.site.docs["User"][user] = {"doctype": "User", "name": user, "roles": roles}
        with _client(erp, "admin") as admin:
            assert not run_setup(admin).missing
            for till, user in TILLS.items():
                admin.insert(
                    TERMINAL_DOCTYPE,
                    {"terminal_id": till, "erpnext_user": user, "hostname": till.lower()},
                )
        yield erp


def _client(erp: FakeERPNext, who: str) -> ERPNextClient:
    return ERPNextClient(erp.url, f"{who}-key", f"{who}-secret")


def _fence(erp: FakeERPNext, *, check: bool = False) -> list[tuple[Status, str, str]]:
    with _client(erp, "admin") as admin, _client(erp, "ms1") as agent:
        report = run_setup(admin, agent=agent, check=check, terminal="MS1")
    return [(f.status, f.what, f.detail) for f in report.findings if "own record" in f.what]


def test_a_tills_key_cannot_rewrite_another_tills_record_once_setup_fenced_it(
    site: FakeERPNext,
) -> None:
    with _client(site, "ms1") as ms1:
        assert {r["name"] for r in ms1.get_list(TERMINAL_DOCTYPE)} == {"MS1", "MS2"}
        ms1.update(TERMINAL_DOCTYPE, "MS2", {"support_bundle_requested": 1})  # today: taken

        assert _fence(site, check=True) == [
            (Status.MISSING, f"{user} to its own record {till}", "not fenced")
            for till, user in TILLS.items()
        ]
        assert _fence(site) == [
            (Status.CREATED, f"{user} to its own record {till}", "") for till, user in TILLS.items()
        ]
        assert [s for s, _, _ in _fence(site)] == [Status.OK, Status.OK]  # idempotent

        with pytest.raises(ERPNextError) as refused:
            ms1.update(TERMINAL_DOCTYPE, "MS2", {"target_release": "0.0.1"})
        assert refused.value.status == 403
        # As a real ERPNext 15.70.2 answered it (docs/realserver-runs.md, the fence run).
        assert "Not allowed for POS Appliance Terminal: MS2" in str(refused.value)
        assert f"User {TILLS['MS1']} does not have access to this document" in str(refused.value)
        with pytest.raises(ERPNextError):
            ms1.get_doc(TERMINAL_DOCTYPE, "MS2")
        assert [r["name"] for r in ms1.get_list(TERMINAL_DOCTYPE)] == ["MS1"]
        assert site.site.get(TERMINAL_DOCTYPE, "MS2").get("target_release") in (None, "")

        # Its own record: read and reported into as before.
        ms1.update(TERMINAL_DOCTYPE, "MS1", {REPORT_FIELDS.unsent: 2})
        assert (ms1.get_doc(TERMINAL_DOCTYPE, "MS1") or {}).get(REPORT_FIELDS.unsent) == 2


def test_a_till_cannot_lift_or_widen_its_own_fence(site: FakeERPNext) -> None:
    _fence(site)
    with _client(site, "ms1") as ms1:
        with pytest.raises(ERPNextError) as refused:
            ms1.insert(
                "User Permission",
                {
                    "user": TILLS["MS1"],
                    "allow": TERMINAL_DOCTYPE,
                    "for_value": "MS2",
                    "applicable_for": TERMINAL_DOCTYPE,
                },
            )
        assert refused.value.status == 403
        with pytest.raises(ERPNextError):
            ms1.update(TERMINAL_DOCTYPE, "MS2", {"enabled": 0})


def test_a_terminal_that_names_no_erpnext_user_is_reported_unfenced(site: FakeERPNext) -> None:
    with _client(site, "admin") as admin:
        admin.insert(TERMINAL_DOCTYPE, {"terminal_id": "MS3"})
    found = _fence(site)
    assert (Status.MISSING, "MS3 to its own record", "names no ERPNext user: set one") in found


def test_a_till_naming_someone_elses_user_on_its_record_gets_nobody_fenced(
    site: FakeERPNext,
) -> None:
    """The attack the fence opens: a till may write its own record, ERPNext User included. Root
    on MS1 names IT's user (a System Manager) there, or MS2's user: setup must fence neither,
    and say which record asked."""
    it = "it@example.com"
    site.site.docs["User"][it] = {
        "doctype": "User",
        "name": it,
        "roles": [{"role": "System Manager"}],
    }
    _fence(site)  # each till fenced to its own record first
    with _client(site, "ms1") as ms1:
        ms1.update(TERMINAL_DOCTYPE, "MS1", {"erpnext_user": it})
    found = _fence(site)
    assert (
        Status.MISSING,
        f"{it} to its own record MS1",
        "a System Manager: not fenced (a till may write its own record: check who set it)",
    ) in found
    with _client(site, "ms1") as ms1:
        ms1.update(TERMINAL_DOCTYPE, "MS1", {"erpnext_user": TILLS["MS2"]})
    found = _fence(site)
    assert (
        Status.MISSING,
        f"{TILLS['MS2']} to its own record MS1",
        "already fenced to MS2: not fenced to MS1 too (a till may write its own record: "
        "check who set it)",
    ) in found
    fenced = {
        (p["user"], p["for_value"]) for p in site.site.docs.get("User Permission", {}).values()
    }
    assert (it, "MS1") not in fenced and (TILLS["MS2"], "MS1") not in fenced

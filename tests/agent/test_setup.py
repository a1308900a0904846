"""``appliance erpnext setup`` and ``set-pin`` against the fake ERPNext over real HTTP."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance.agent.client import ERPNextError, ErrorKind
from appliance.agent.schema import APPLIANCE_ROLE, CUSTOM_FIELDS, READ_ROLES, TERMINAL_DOCTYPE
from appliance.agent.setup import Status, run_setup
from appliance.cli import main
from appliance.counter.auth import verify_pin
from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, make_client, sell, write_config

ADMIN_KEY, ADMIN_SECRET = "admin-key", "admin-secret-value"


@pytest.fixture
def bare() -> Iterator[FakeERPNext]:
    """A site as ERPNext ships: none of the appliance's custom fields or DocType yet."""
    with FakeERPNext(all_masters(SMALL), set_up=False) as fake:
        yield fake


# What setup makes on a bare site: the custom fields, the terminal DocType, the appliance's role
# and one read permission for it per doctype a stock site keeps from the till's roles.
MADE = len(CUSTOM_FIELDS) + 1 + 1 + len(READ_ROLES)


def _writes(erp: FakeERPNext) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in erp.log if e.method != "GET"]


def _set_roles(erp: FakeERPNext, user: str, *roles: str) -> None:
    erp.site.touch("User", user, roles=[{"role": r, "doctype": "Has Role"} for r in roles])


def _add_admin(erp: FakeERPNext, directory: Path) -> list[str]:
    """An Administrator key on the fake; the CLI options that use it."""
    erp.site.users[ADMIN_KEY] = (ADMIN_SECRET, "Administrator")
    secret = directory / "admin.secret"
    secret.write_text(ADMIN_SECRET + "\n", encoding="utf-8")
    secret.chmod(0o600)  # refused otherwise, like the agent's own secret
    return ["--admin-key", ADMIN_KEY, "--admin-secret-file", str(secret)]


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", "erpnext", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_setup_creates_everything_once_then_writes_nothing(
    bare: FakeERPNext, tmp_path: Path
) -> None:
    config = write_config(tmp_path, bare)

    checked = _cli(config, "setup", "--check", "--json")
    assert checked.returncode == 4
    report = json.loads(checked.stdout)
    assert report["check"] and not report["ok"] and report["writes"] == 0
    # ...and this user's read of Batch, which only those grants open (it holds no Item Manager).
    assert report["missing"] == MADE + 1
    assert checked.stderr.startswith(f"erpnext setup: {MADE + 1} missing (first: ")
    assert _writes(bare) == []

    done = _cli(config, "setup")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"ERPNext {bare.url}, integration user {bare.user}"
    assert "created  Custom Field POS Invoice-offline_id" in lines
    assert "created  Custom Field POS Profile User-appliance_pin_hash" in lines
    assert "created  Custom Field Sales Invoice-appliance_journal" in lines
    assert f"created  DocType {TERMINAL_DOCTYPE}" in lines
    assert f"created  Role {APPLIANCE_ROLE}" in lines
    assert f"created  read of System Settings for {APPLIANCE_ROLE}" in lines
    assert lines[-1] == f"{MADE} created, 4 ok"
    offline_id = bare.site.get("Custom Field", "POS Invoice-offline_id")
    assert (offline_id["dt"], offline_id["fieldname"], offline_id["fieldtype"]) == (
        "POS Invoice",
        "offline_id",
        "Data",
    )
    assert {k: offline_id[k] for k in ("unique", "no_copy", "read_only", "search_index")} == {
        "unique": 1,
        "no_copy": 1,
        "read_only": 1,
        "search_index": 1,
    }
    role = bare.site.get("Custom Field", "POS Profile User-appliance_role")
    assert (role["fieldtype"], role["options"], role["default"]) == (
        "Select",
        "Cashier\nSupervisor",
        "Cashier",
    )
    assert bare.site.get("Custom Field", "POS Profile User-appliance_pin_hash")["hidden"] == 1

    writes = len(_writes(bare))
    again = _cli(config, "setup", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["ok"] and report["writes"] == 0
    assert {f["status"] for f in report["findings"]} == {"ok"}
    assert len(_writes(bare)) == writes


def test_push_before_setup_stops_naming_setup_and_works_after(
    checkout: Checkout,
    db_path: Path,
    bare: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, bare)))
    checkout.open_shift(CASHIER, {"Cash": D(0)})
    sale = sell(checkout, 10)

    assert main(["sync", "--once"]) == 3
    out, err = capsys.readouterr()
    assert json.loads(out)["link"] == "stopped"
    assert err.strip() == (
        "sync: stopped: Field not permitted in query: offline_id (a custom field is missing in "
        "ERPNext: run `appliance erpnext setup`)"
    )
    assert bare.posts() == []
    assert main(["status"]) == 0
    assert "appliance erpnext setup" in json.loads(capsys.readouterr().out)["last_error"]

    assert main(["erpnext", "setup"]) == 0
    capsys.readouterr()
    assert main(["sync", "--once"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["link"] == "up" and summary["push"]["created"] == 2
    assert [i["offline_id"] for i in bare.site.all("POS Invoice")] == [sale.offline_id]


def test_a_wrong_property_is_reported_then_corrected(bare: FakeERPNext) -> None:
    client = make_client(bare)
    run_setup(client)
    bare.site.touch("Custom Field", "Customer-offline_id", unique=0, read_only=0)

    report = run_setup(client, check=True)
    (wrong,) = report.missing
    assert wrong.what == "Custom Field Customer-offline_id"
    assert wrong.detail == "unique is 0, want 1; read_only is 0, want 1"
    assert bare.site.get("Custom Field", "Customer-offline_id")["unique"] == 0

    fixed = run_setup(client)
    assert [f.what for f in fixed.findings if f.status is Status.UPDATED] == [wrong.what]
    assert not fixed.missing
    assert bare.site.get("Custom Field", "Customer-offline_id")["unique"] == 1
    # The restored unique index holds again.
    client.insert("Customer", {"customer_name": "One", "offline_id": "c-1"})
    with pytest.raises(ERPNextError) as info:
        client.insert("Customer", {"customer_name": "Two", "offline_id": "c-1"})
    assert info.value.status == 417 and info.value.is_duplicate
    assert info.value.messages == ["Offline ID must be unique"]


def test_the_terminal_registry_is_a_doctype_with_its_rules(bare: FakeERPNext) -> None:
    client = make_client(bare)
    with pytest.raises(ERPNextError) as info:
        client.get_list(TERMINAL_DOCTYPE)
    assert info.value.status == 404
    run_setup(client)

    made = client.insert(TERMINAL_DOCTYPE, {"terminal_id": "T1", "hostname": "till-1"}).doc
    assert made["name"] == "T1"  # autoname field:terminal_id
    (row,) = client.get_list(TERMINAL_DOCTYPE, fields=["*"])
    assert (row["enabled"], row["ssh_port"], row["ring"]) == (1, 22, "stable")
    assert row["hostname"] == "till-1" and row["branch"] is None
    assert client.get_list(TERMINAL_DOCTYPE, filters={"ring": "stable"}) == [{"name": "T1"}]
    with pytest.raises(ERPNextError) as info:
        client.get_list(TERMINAL_DOCTYPE, filters={"colour": "red"})
    assert info.value.exc_type == "DataError" and info.value.kind is ErrorKind.STOP

    cases = [
        ({"terminal_id": "T1"}, "UniqueValidationError", "Terminal ID must be unique"),
        ({"terminal_id": "T2", "ring": "beta"}, "ValidationError", 'Ring cannot be "beta"'),
        ({"terminal_id": "T3", "pos_profile": "Nope"}, "LinkValidationError", "Could not find"),
        ({"hostname": "x"}, "MandatoryError", "Terminal Id"),
    ]
    for body, exc_type, text in cases:
        with pytest.raises(ERPNextError) as info:
            client.insert(TERMINAL_DOCTYPE, body)
        assert (info.value.status, info.value.exc_type) == (417, exc_type)
        assert text in info.value.message
    assert [t["name"] for t in bare.site.all(TERMINAL_DOCTYPE)] == ["T1"]


def test_a_changed_doctype_is_merged_back_not_replaced(bare: FakeERPNext) -> None:
    client = make_client(bare)
    run_setup(client)
    doctype = bare.site.get("DocType", TERMINAL_DOCTYPE)
    kept = [f for f in doctype["fields"] if f["fieldname"] != "ring"]
    kept[0]["unique"] = 0
    kept.append({"fieldname": "notes", "fieldtype": "Small Text", "label": "Notes"})
    perms = [p for p in doctype["permissions"] if p["role"] == "System Manager"]
    bare.site.touch("DocType", TERMINAL_DOCTYPE, fields=kept, permissions=perms)

    (finding,) = [f for f in run_setup(client).findings if f.what.startswith("DocType")]
    assert finding.status is Status.UPDATED
    assert finding.detail == (
        "field terminal_id: unique is 0, want 1; field ring missing; "
        "permission for Accounts User missing"
    )
    fixed = bare.site.get("DocType", TERMINAL_DOCTYPE)
    names = [f["fieldname"] for f in fixed["fields"]]
    assert "ring" in names and "notes" in names  # the site's own field stays
    assert fixed["fields"][0]["unique"] == 1
    assert {p["role"] for p in fixed["permissions"]} == {"System Manager", "Accounts User"}
    assert all(f.status is Status.OK for f in run_setup(client, check=True).findings)


def test_missing_roles_are_listed_and_fail_the_run(
    erp: FakeERPNext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_roles(erp, erp.user, "Sales Manager", "System Manager", "Sales Master Manager")
    config = write_config(tmp_path, erp)
    assert main(["erpnext", "setup", "--config", str(config)]) == 4
    out, err = capsys.readouterr()
    missing = (
        f"role for {erp.user} to create and submit POS/Sales Invoices: "
        "give it one of: Accounts User, Accounts Manager"
    )
    # Tax Rule is read by Accounts Manager only on a stock site, Batch by Item Manager
    # (READ_ROLES), or by the appliance's role once setup granted it.
    assert [line for line in out.splitlines() if line.startswith("missing")] == [
        f"missing  {missing}",
        *(
            f"missing  read access to {doctype}: HTTP 403 PermissionError: User {erp.user} does "
            f"not have doctype access via role permission for document {doctype} (give it one "
            f"of: {APPLIANCE_ROLE}, {role})"
            for doctype, role in (("Tax Rule", "Accounts Manager"), ("Batch", "Item Manager"))
        ),
    ]
    assert err == f"erpnext setup: 3 missing (first: {missing})\n"


def test_the_invoice_and_shift_roles_alone_cannot_read_what_a_stock_site_keeps_to_others(
    erp: FakeERPNext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real ERPNext 15.70.2 (docs/realserver-runs.md, 2026-12-07): a user with Accounts User,
    Sales Manager, Sales User and Stock User got 403 reading System Settings and Global
    Defaults (System Manager only), Tax Rule (Accounts Manager), Item Price (Sales or Purchase
    Master Manager), Batch (Item Manager) and Loyalty Program (System Manager); its first pull
    stopped at System Settings. IT is told which role gives each read: the appliance's own,
    which setup granted those reads (and nothing more), and not System Manager."""
    stock = ("Accounts User", "Sales Manager", "Sales User", "Stock User")
    _set_roles(erp, erp.user, *stock)
    config = write_config(tmp_path, erp)
    assert main(["erpnext", "setup", "--check", "--config", str(config)]) == 4
    out = capsys.readouterr().out
    missing = [line for line in out.splitlines() if line.startswith("missing")]
    denied = f"HTTP 403 PermissionError: User {erp.user} does not have doctype access"
    assert missing[0] == (
        f"missing  role for {erp.user} to read the site's settings, tax rules, prices, batches "
        f"and loyalty programs: give it one of: {APPLIANCE_ROLE}, System Manager"
    )
    reads = missing[1:]
    doctypes = [line.split(":")[0].removeprefix("missing  read access to ") for line in reads]
    assert sorted(doctypes) == sorted(READ_ROLES)
    assert all(denied in line for line in reads)
    # A single's refusal holds two sentences joined by <br> (real 15.70.2): kept apart.
    assert reads[0].startswith(
        f"missing  read access to System Settings: {denied} via role permission for document "
        f"System Settings; User {erp.user} does not have access to this document ("
    )
    assert [line.rsplit("(", 1)[1] for line in reads] == [
        f"give it one of: {APPLIANCE_ROLE}, {', '.join(READ_ROLES[d])})" for d in doctypes
    ]

    _set_roles(erp, erp.user, *stock, APPLIANCE_ROLE)  # no System Manager: reads everything
    assert main(["erpnext", "setup", "--check", "--config", str(config)]) == 0


def test_a_least_privilege_user_is_set_up_with_an_admin_key(
    bare: FakeERPNext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_roles(bare, bare.user, "Accounts User", "Sales User", "Stock User")
    config = write_config(tmp_path, bare)

    assert main(["erpnext", "setup", "--config", str(config)]) == 3
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "erpnext setup: creating Custom Field POS Invoice-offline_id: HTTP 403 PermissionError: "
        f"User {bare.user} does not have doctype access via role permission for document "
        "Custom Field (this key lacks the rights (System Manager): run it with an "
        "administrator's --admin-key)"
    )
    assert _writes(bare) == [("POST", "/api/resource/Custom Field")]  # refused, nothing made

    admin = _add_admin(bare, tmp_path)
    assert main(["erpnext", "setup", "--json", "--config", str(config), *admin]) == 4
    report = json.loads(capsys.readouterr().out)
    assert report["user"] == bare.user  # the integration user is the one checked
    assert report["writes"] == MADE
    missing = [f["what"] for f in report["findings"] if f["status"] == "missing"]
    assert missing[:2] == [
        f"role for {bare.user} to read the site's settings, tax rules, prices, batches and "
        "loyalty programs",
        f"role for {bare.user} to create and submit POS Opening and Closing Entries",
    ]
    assert sorted(missing[2:]) == sorted(f"read access to {d}" for d in READ_ROLES)
    owners = {d["owner"] for d in bare.site.all("Custom Field")}
    assert owners == {"Administrator"}


def test_a_bad_secret_is_one_line_without_the_secret(
    erp: FakeERPNext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, erp, secret="s3cret-wrong-value")
    assert main(["erpnext", "setup", "--config", str(config)]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("erpnext setup: asking ERPNext whose API key this is: HTTP 401")
    assert "s3cret-wrong-value" not in err


# -- set-pin ----------------------------------------------------------------------------------
def _set_pin(monkeypatch: pytest.MonkeyPatch, config: Path, pin: str, *args: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(pin + "\n"))
    return main(["erpnext", "set-pin", "--pin-stdin", "--config", str(config), *args])


def _row(erp: FakeERPNext, user: str) -> dict[str, object]:
    profile = erp.site.get("POS Profile", "Main POS")
    (row,) = [r for r in profile["applicable_for_users"] if r["user"] == user]
    return dict(row)


def test_set_pin_stores_a_hash_the_till_verifies(
    erp: FakeERPNext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = write_config(tmp_path, erp)
    assert _set_pin(monkeypatch, config, "482913", "--user", CASHIER) == 0
    out, err = capsys.readouterr()
    assert out == f"PIN set for {CASHIER} (Cashier), updated on POS Profile Main POS\n"
    row = _row(erp, CASHIER)
    assert str(row["appliance_pin_hash"]).startswith("$argon2id$")
    assert verify_pin(str(row["appliance_pin_hash"]), "482913")
    assert not verify_pin(str(row["appliance_pin_hash"]), "482914")
    assert row["appliance_role"] == "Cashier" and row["default"] == 1  # the row kept its own

    new_user = "bo@example.com"
    assert _set_pin(monkeypatch, config, "7731", "--user", new_user, "--role", "Supervisor") == 0
    out, _ = capsys.readouterr()
    assert out == f"PIN set for {new_user} (Supervisor), added to POS Profile Main POS\n"
    added = _row(erp, new_user)
    assert added["appliance_role"] == "Supervisor" and added["name"]
    assert verify_pin(str(added["appliance_pin_hash"]), "7731")
    assert len(erp.site.get("POS Profile", "Main POS")["applicable_for_users"]) == 2

    for text in (out, err, caplog.text, " ".join(e.path for e in erp.log)):
        assert "482913" not in text and "7731" not in text


def test_set_pin_reads_the_pin_twice_without_echo(
    erp: FakeERPNext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, erp)
    answers = iter(["1234", "1243"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["erpnext", "set-pin", "--user", CASHIER, "--config", str(config)]) == 2
    assert capsys.readouterr().err == "erpnext set-pin: the two PINs differ\n"

    answers = iter(["2468", "2468"])
    assert main(["erpnext", "set-pin", "--user", CASHIER, "--config", str(config)]) == 0
    assert verify_pin(str(_row(erp, CASHIER)["appliance_pin_hash"]), "2468")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", " 1234"])
def test_set_pin_refuses_a_pin_that_is_not_4_to_8_digits(
    erp: FakeERPNext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pin: str,
) -> None:
    config = write_config(tmp_path, erp)
    assert _set_pin(monkeypatch, config, pin, "--user", CASHIER) == 2
    assert capsys.readouterr().err == "erpnext set-pin: a PIN is 4 to 8 digits\n"
    assert _writes(erp) == []


def test_set_pin_before_setup_says_to_run_setup(
    bare: FakeERPNext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, bare)
    assert _set_pin(monkeypatch, config, "1234", "--user", CASHIER) == 4
    assert capsys.readouterr().err == (
        "erpnext set-pin: ERPNext did not keep appliance_pin_hash on POS Profile User: "
        "run `appliance erpnext setup` first\n"
    )
    assert "appliance_pin_hash" not in _row(bare, CASHIER)  # dropped, as Frappe does

    assert _set_pin(monkeypatch, config, "1234", "--user", CASHIER, "--profile", "Nope") == 4
    assert "POS Profile 'Nope' does not exist" in capsys.readouterr().err

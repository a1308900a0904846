"""The erpnext_terminals inventory plugin against the fake ERPNext over HTTP, through the real
``ansible-inventory``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakeerp import FakeERPNext
from tests.fleet.conftest import ansible_env, run, terminal, tool

KEY = "it-inventory-key"
SECRET = "it-inventory-secret-5e1f"
TERMINALS = [
    terminal(
        "MS1",
        ring="canary",
        ssh_port=2222,
        target_release="0.2.0",
        device_settings=json.dumps(
            {"receipt": {"kind": "printer", "backend": "network", "host": "10.0.0.5"}}
        ),
        inactivity_lock_seconds=300,
    ),
    terminal("MS2"),
    terminal("HB1", branch="Harbour Front (East)", ring="early", pos_profile="Harbour POS"),
    terminal("OLD1", enabled=0),
    terminal("BAD1", device_settings="{not json"),
    # Records a till would refuse: each left out, named, with the reason.
    terminal("MS-3"),
    terminal("LOCK1", inactivity_lock_seconds=5),
    terminal("DEV1", device_settings=json.dumps({"receipt": "printer"})),
    terminal("DEV2", device_settings=json.dumps({"receipt": {"kind": "teleporter"}})),
]
REFUSED = ("MS-3", "LOCK1", "DEV1", "DEV2", "BAD1")


@pytest.fixture
def erp() -> Iterator[FakeERPNext]:
    with FakeERPNext(TERMINALS, api_key=KEY, api_secret=SECRET) as fake:
        yield fake


def plain(value: Any) -> Any:
    """ansible-inventory marks strings from ERPNext as unsafe (never templated): unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inventory_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fleet.erpnext_terminals.yml"
    path.write_text(body, encoding="utf-8")
    return path


def test_groups_hostvars_and_no_secret_in_output(erp: FakeERPNext, tmp_path: Path) -> None:
    inventory = inventory_file(tmp_path, f"plugin: erpnext_terminals\nurl: {erp.url}\n")
    env = ansible_env(tmp_path, ERPNEXT_API_KEY=KEY, ERPNEXT_API_SECRET=SECRET)
    result = run([tool("ansible-inventory"), "-i", str(inventory), "--list", "-vvv"], env)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    listed = json.loads(result.stdout[result.stdout.index("{") :])

    raw_hostvars = listed["_meta"]["hostvars"]
    # ERPNext's text cannot smuggle a Jinja template into a play.
    assert raw_hostvars["MS1"]["ansible_host"] == {"__ansible_unsafe": "ms1.branch.example"}
    hostvars = plain(raw_hostvars)
    assert sorted(hostvars) == ["HB1", "MS1", "MS2"]  # OLD1 disabled, BAD1 unreadable devices
    assert "BAD1 left out: device_settings is not JSON" in result.stderr
    assert sorted(listed["terminals"]["hosts"]) == ["HB1", "MS1", "MS2"]
    assert listed["ring_canary"]["hosts"] == ["MS1"]
    assert listed["ring_early"]["hosts"] == ["HB1"]
    assert listed["ring_stable"]["hosts"] == ["MS2"]
    assert sorted(listed["branch_main_street"]["hosts"]) == ["MS1", "MS2"]
    assert listed["branch_harbour_front_east"]["hosts"] == ["HB1"]
    assert hostvars["MS1"] == {
        "ansible_host": "ms1.branch.example",
        "ansible_port": 2222,
        "appliance_terminal_id": "MS1",
        "appliance_branch": "Main Street",
        "appliance_ring": "canary",
        "appliance_pos_profile": "Main POS",
        "appliance_release": "0.2.0",
        "appliance_devices": {
            "receipt": {"kind": "printer", "backend": "network", "host": "10.0.0.5"}
        },
        "appliance_inactivity_lock_seconds": 300,
    }
    assert all(e.path.startswith("/api/resource/POS") for e in erp.log)


def test_secret_file_terminal_filter_and_local(erp: FakeERPNext, tmp_path: Path) -> None:
    secret_file = tmp_path / "it.secret"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    inventory = inventory_file(
        tmp_path,
        f"plugin: erpnext_terminals\nurl: {erp.url}\napi_key: {KEY}\n"
        f"api_secret_file: {secret_file}\nterminal_id: MS2\nlocal: true\n",
    )
    result = run([tool("ansible-inventory"), "-i", str(inventory), "--list"], ansible_env(tmp_path))
    assert result.returncode == 0, result.stderr
    hostvars = plain(json.loads(result.stdout)["_meta"]["hostvars"])
    assert list(hostvars) == ["MS2"]
    assert hostvars["MS2"]["ansible_connection"] == "local"


def test_wrong_secret_fails_without_echoing_it(erp: FakeERPNext, tmp_path: Path) -> None:
    wrong = "wrong-secret-9c9c"
    inventory = inventory_file(tmp_path, f"plugin: erpnext_terminals\nurl: {erp.url}\n")
    env = ansible_env(tmp_path, ERPNEXT_API_KEY=KEY, ERPNEXT_API_SECRET=wrong)
    result = run(
        [tool("ansible-inventory"), "-i", str(inventory), "--list", "-vvv"],
        {**env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"},
    )
    assert result.returncode != 0
    assert "HTTP 401" in result.stderr
    assert wrong not in result.stdout + result.stderr


def _listed(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout[result.stdout.index("{") :]))


def test_records_the_till_would_refuse_are_named_with_the_reason(
    erp: FakeERPNext, tmp_path: Path
) -> None:
    inventory = inventory_file(tmp_path, f"plugin: erpnext_terminals\nurl: {erp.url}\n")
    env = ansible_env(tmp_path, ERPNEXT_API_KEY=KEY, ERPNEXT_API_SECRET=SECRET)
    result = run([tool("ansible-inventory"), "-i", str(inventory), "--list"], env)
    listed = _listed(result)
    assert not set(REFUSED) & set(listed["_meta"]["hostvars"])
    said = " ".join(result.stderr.split())  # ansible wraps long warnings
    assert "'MS-3' left out: a terminal id is 1-16 letters, digits or _ (no '-'" in said
    assert "LOCK1 left out: inactivity_lock_seconds 5 is not between 10 and 3600" in said
    assert "DEV1 left out: device_settings must be a JSON object of [devices.NAME] tables" in said
    assert "DEV2 left out: device_settings: [devices.receipt]" in said

    strict = inventory_file(
        tmp_path, f"plugin: erpnext_terminals\nurl: {erp.url}\non_refused: fail\n"
    )
    failed = run(
        [tool("ansible-inventory"), "-i", str(strict), "--list"],
        {**env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"},
    )
    assert failed.returncode != 0
    assert "5 record(s) refused" in " ".join(failed.stderr.split())


def test_url_from_the_environment_and_constructed_groups(erp: FakeERPNext, tmp_path: Path) -> None:
    """The documented way: the file names no URL, ERPNEXT_URL does; keyed_groups, groups and
    compose work as in ansible's own constructed inventories."""
    inventory = inventory_file(
        tmp_path,
        "plugin: erpnext_terminals\n"
        "compose:\n  ansible_user: \"'it'\"\n  till_name: appliance_terminal_id | lower\n"
        "groups:\n  wide_lock: appliance_inactivity_lock_seconds > 200\n"
        "keyed_groups:\n  - key: appliance_pos_profile\n    prefix: profile\n",
    )
    env = ansible_env(tmp_path, ERPNEXT_URL=erp.url, ERPNEXT_API_KEY=KEY, ERPNEXT_API_SECRET=SECRET)
    listed = _listed(run([tool("ansible-inventory"), "-i", str(inventory), "--list"], env))
    hostvars = plain(listed["_meta"]["hostvars"])
    assert hostvars["MS1"]["ansible_user"] == "it" and hostvars["MS1"]["till_name"] == "ms1"
    assert listed["wide_lock"]["hosts"] == ["MS1"]
    assert sorted(listed["profile_Main_POS"]["hosts"]) == ["MS1", "MS2"]
    assert listed["profile_Harbour_POS"]["hosts"] == ["HB1"]

    nowhere = run(
        [tool("ansible-inventory"), "-i", str(inventory), "--list"],
        {
            **ansible_env(tmp_path, ERPNEXT_API_KEY=KEY, ERPNEXT_API_SECRET=SECRET),
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        },
    )
    assert nowhere.returncode != 0
    assert "url" in nowhere.stderr


def test_a_hostile_hostname_or_port_is_refused_by_name(tmp_path: Path) -> None:
    """ERPNext's hostname and ssh_port go to ssh on IT's machine: a record that would hand ssh an
    option (``-oProxyCommand=...`` runs a command on the controller), a shell's metacharacters,
    or a port that is no port is left out with its reason instead of reaching ssh, or stopping
    the whole inventory on a traceback."""
    hostile = [
        terminal("OK1"),
        terminal("PX1", hostname="-oProxyCommand=touch /tmp/owned"),
        terminal("SH1", hostname="sh1.example;reboot"),
        terminal("NL1", hostname="nl1.example\n127.0.0.1 erp.example"),
        terminal("PT1", ssh_port="twenty-two"),
        terminal("PT2", ssh_port=70000),
        terminal("IP1", hostname="10.0.0.7", ssh_port="2222"),
    ]
    with FakeERPNext(hostile, api_key=KEY, api_secret=SECRET) as fake:
        inventory = inventory_file(tmp_path, f"plugin: erpnext_terminals\nurl: {fake.url}\n")
        env = ansible_env(tmp_path, ERPNEXT_API_KEY=KEY, ERPNEXT_API_SECRET=SECRET)
        result = run([tool("ansible-inventory"), "-i", str(inventory), "--list"], env)
    listed = _listed(result)
    hostvars = plain(listed["_meta"]["hostvars"])
    assert sorted(hostvars) == ["IP1", "OK1"]
    assert hostvars["IP1"]["ansible_host"] == "10.0.0.7" and hostvars["IP1"]["ansible_port"] == 2222
    said = " ".join(result.stderr.split())
    for name in ("PX1", "SH1", "NL1"):
        assert f"{name} left out: hostname " in said, said
    assert "'-oProxyCommand=touch /tmp/owned'" in said
    assert "PT1 left out: ssh_port 'twenty-two' is not a port (1-65535)" in said
    assert "PT2 left out: ssh_port 70000 is not a port (1-65535)" in said

"""rollout.yml's safety rules, for real with connection=local into scratch roots, fast.

The releases are "installed" the quick way: a pip-less venv whose site-packages point at this
checkout (what ``appliance busy``, ``appliance health`` and the config check run), marked
installed, so no wheel is built and no pip runs. Everything else is the real playbook: the real
config rendering and validation, links, the idle wait, health before and after the switch, the
report. What a till does on a release that crashes is in test_pos_terminal.py (slow) and the fleet
test (QEMU).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.store import sync_state as state
from appliance.store.db import create_db_engine, make_session_factory
from fakeerp import FakeERPNext
from tests.fleet.conftest import (
    NEW,
    OLD,
    REPO,
    ansible_env,
    current_release,
    local_inventory,
    migrate_store,
    run,
    terminal,
    tool,
)

API_KEY = "safety-key-3131"
SECRET = "safety-secret-9a9a-7b7b"
PROVISIONED = """[terminal]
id = "{id}"
inactivity_lock_seconds = 120

[erpnext]
url = "http://erp.branch.example"
api_key = "{key}"
api_secret_file = "{root}/etc/appliance/erpnext.secret"
pos_profile = "Main POS"
verify_tls = true

[transfer]
key_file = "/etc/appliance/transfer.key"
"""


def fake_release(root: Path, version: str) -> None:
    """/opt/appliance/<version> as a venv running this checkout, marked installed."""
    release = root / "opt/appliance" / version
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(release)], check=True, timeout=120
    )
    purelib = Path(sysconfig.get_paths()["purelib"])
    site = next((release / "lib").glob("python3*/site-packages"))
    (site / "checkout.pth").write_text(f"{REPO}\n{purelib}\n", "utf-8")
    appliance = release / "bin/appliance"
    appliance.write_text(
        f"#!{release}/bin/python\nimport sys\nfrom appliance.cli import main\nsys.exit(main())\n",
        "utf-8",
    )
    appliance.chmod(0o755)
    (release / ".installed").write_text(f"{version}\n", "utf-8")


def terminal_root(tmp_path: Path, name: str, *, running: str | None = OLD) -> Path:
    """A provisioned till: its store, its config with [erpnext] and [transfer], its secret."""
    root = tmp_path / name
    migrate_store(root)
    etc = root / "etc/appliance"
    etc.mkdir(parents=True)
    (etc / "appliance.toml").write_text(
        PROVISIONED.format(id=name.upper(), key=API_KEY, root=root), "utf-8"
    )
    (etc / "erpnext.secret").write_text(SECRET + "\n", "utf-8")
    (etc / "erpnext.secret").chmod(0o600)
    for version in (OLD, NEW):
        fake_release(root, version)
    if running:
        os.symlink(running, root / "opt/appliance/current")
    units = root / "units.json"
    units.write_text(
        json.dumps({"appliance-tui.service": "active", "appliance-agent.service": "active"}),
        "utf-8",
    )
    return root


def inventory(path: Path, roots: dict[str, Path], wheels: Path, **per_host: Any) -> Path:
    hosts = {
        name: {
            "appliance_prefix": str(root),
            "appliance_terminal_id": name.upper(),
            "appliance_branch": "Main Street",
            "appliance_release": NEW,
            "appliance_health_environment": {"APPLIANCE_UNITS_FROM": str(root / "units.json")},
            **per_host.get(name, {}),
        }
        for name, root in roots.items()
    }
    return local_inventory(path, wheels, hosts)


def play(tmp_path: Path, inv: Path, *extra: str, playbook: str = "rollout.yml") -> tuple[int, str]:
    result = run(
        [tool("ansible-playbook"), "-i", str(inv), playbook, *extra],
        ansible_env(tmp_path),
        timeout=600,
    )
    out = result.stdout + result.stderr
    assert SECRET not in out
    return result.returncode, out


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    """A wheelhouse as the role looks for it (only looked at: every release is installed)."""
    house = tmp_path / "wheels"
    house.mkdir()
    for version in (OLD, NEW):
        (house / f"appliance-{version}-py3-none-any.whl").write_bytes(b"")
    return house


def test_a_rollout_without_erpnext_variables_keeps_what_provisioning_set(
    tmp_path: Path, wheels: Path
) -> None:
    roots = {"canary1": terminal_root(tmp_path, "canary1")}
    before = (roots["canary1"] / "etc/appliance/appliance.toml").read_text()
    # The variables a rollout needs, without appliance_erpnext_url or appliance_transfer.
    code, out = play(tmp_path, inventory(tmp_path / "inv.yml", roots, wheels))
    assert code == 0, out[-3000:]
    assert current_release(roots["canary1"]) == NEW
    config = tomllib.loads((roots["canary1"] / "etc/appliance/appliance.toml").read_text())
    assert config["erpnext"]["url"] == "http://erp.branch.example"
    assert config["erpnext"]["api_key"] == API_KEY
    assert config["transfer"] == {"key_file": "/etc/appliance/transfer.key"}
    assert "canary1: now on " + NEW in out
    # Named, the tables change: no [transfer], a new URL.
    code, out = play(
        tmp_path,
        inventory(
            tmp_path / "inv.yml",
            roots,
            wheels,
            canary1={
                "appliance_transfer": {},
                "appliance_erpnext_url": "https://erp2.example",
                "appliance_erpnext_api_key": API_KEY,
            },
        ),
    )
    assert code == 0, out[-3000:]
    text = (roots["canary1"] / "etc/appliance/appliance.toml").read_text()
    assert "transfer" not in tomllib.loads(text)
    assert tomllib.loads(text)["erpnext"]["url"] == "https://erp2.example"
    assert before != text


def test_a_missing_variable_fails_before_touching_any_till(tmp_path: Path, wheels: Path) -> None:
    roots = {"canary1": terminal_root(tmp_path, "canary1"), "stable1": tmp_path / "stable1"}
    # The URL without its key: refused for every till before any is touched.
    code, out = play(
        tmp_path,
        inventory(
            tmp_path / "inv.yml", roots, wheels, canary1={"appliance_erpnext_url": "https://e.x"}
        ),
    )
    assert code != 0 and "appliance_erpnext_url is set without appliance_erpnext_api_key" in out
    assert current_release(roots["canary1"]) == OLD
    assert "TASK [pos_terminal" not in out
    # A fresh box: no config to keep and no ERPNext URL: it fails before anything is written.
    code, out = play(tmp_path, inventory(tmp_path / "inv.yml", roots, wheels))
    assert code != 0
    assert "stable1: its config has no [erpnext] table to keep" in out
    assert not (roots["stable1"] / "etc/appliance/appliance.toml").exists()


def test_a_busy_till_is_left_on_its_release_and_reported(tmp_path: Path, wheels: Path) -> None:
    roots = {"canary1": terminal_root(tmp_path, "canary1")}
    config = (roots["canary1"] / "etc/appliance/appliance.toml").read_text()
    activity = roots["canary1"] / "var/lib/appliance/till-activity.json"
    activity.write_text(json.dumps({"busy": True, "lines": 3, "pid": os.getpid()}), "utf-8")
    code, out = play(tmp_path, inventory(tmp_path / "inv.yml", roots, wheels))
    assert code == 0, out[-3000:]
    assert current_release(roots["canary1"]) == OLD
    assert (roots["canary1"] / "etc/appliance/appliance.toml").read_text() == config
    assert f"canary1: busy (a sale in progress after 2 s): left on {OLD}, not restarted" in out
    assert "Roll back" not in out
    assert "1 till(s) left as they are, run again later" in out


def test_a_problem_from_before_the_rollout_does_not_fail_the_release(
    tmp_path: Path, wheels: Path
) -> None:
    roots = {"canary1": terminal_root(tmp_path, "canary1")}
    # The till last synced 3 days ago: `appliance health` fails on the running release too.
    three_days = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
    engine = create_db_engine(roots["canary1"] / "var/lib/appliance/pos.db")
    try:
        state.write_state(make_session_factory(engine), {"last_push": {"at": three_days}})
    finally:
        engine.dispose()
    code, out = play(tmp_path, inventory(tmp_path / "inv.yml", roots, wheels))
    assert code == 0, out[-3000:]
    assert current_release(roots["canary1"]) == NEW
    assert "canary1 before the switch: sync: last sync" in out
    assert "(failing before the switch as well: sync: last sync" in out


def test_unreachable_busy_and_unreleased_tills_do_not_stop_the_rollout(
    tmp_path: Path, wheels: Path
) -> None:
    roots = {
        "canary1": terminal_root(tmp_path, "canary1"),
        "stable1": terminal_root(tmp_path, "stable1"),
        "stable2": terminal_root(tmp_path, "stable2"),
    }
    inv = inventory(
        tmp_path / "inv.yml",
        roots,
        wheels,
        # Off: an SSH till nobody answers for (a closed loopback port).
        canary1={
            "ansible_connection": "ssh",
            "ansible_host": "127.0.0.1",
            "ansible_port": 9,
            "appliance_reach_timeout": 3,
        },
        stable2={"appliance_release": ""},  # no target_release in ERPNext
    )
    code, out = play(tmp_path, inv)
    assert code == 0, out[-3000:]
    assert "canary1: unreachable, left for a later run" in out
    assert "stable2: no target_release in its ERPNext record" in out
    assert f"stable1: now on {NEW}" in out
    assert current_release(roots["stable1"]) == NEW
    assert current_release(roots["stable2"]) == OLD
    assert "run again later: ansible-playbook rollout.yml --limit canary1,stable2" in out


def test_string_booleans_check_mode_and_tags(tmp_path: Path, wheels: Path) -> None:
    roots = {"canary1": terminal_root(tmp_path, "canary1")}
    (roots["canary1"] / f"opt/appliance/{NEW}/.installed").unlink()  # not installed yet
    inv = inventory(tmp_path / "inv.yml", roots, wheels)
    config = (roots["canary1"] / "etc/appliance/appliance.toml").read_text()
    # --check changes nothing (no wheelhouse packed, no idle wait on a release not installed).
    code, out = play(tmp_path, inv, "--check")
    assert code == 0, out[-3000:]
    assert current_release(roots["canary1"]) == OLD
    assert not (roots["canary1"] / f"opt/appliance/{NEW}/.installed").exists()
    assert (roots["canary1"] / "etc/appliance/appliance.toml").read_text() == config
    # --tags health: the fleet's health, read-only.
    code, out = play(tmp_path, inv, "--tags", "health")
    assert code == 0, out[-3000:]
    assert "Check the terminal's health before switching" in out
    assert current_release(roots["canary1"]) == OLD
    # Booleans as -e gives them (strings): no rescue, no rollback.
    (roots["canary1"] / f"opt/appliance/{NEW}/.installed").write_text(f"{NEW}\n", "utf-8")
    activity = roots["canary1"] / "var/lib/appliance/till-activity.json"
    activity.write_text(json.dumps({"busy": True, "lines": 1, "pid": os.getpid()}), "utf-8")
    code, out = play(
        tmp_path,
        inv,
        "-e",
        "appliance_wait_idle=false",
        "-e",
        "appliance_manage_services=false",
        "-e",
        "appliance_keep_release=no",
        "-e",
        "appliance_erpnext_verify_tls=no",
    )
    assert code == 0, out[-3000:]
    assert "Roll back" not in out
    assert current_release(roots["canary1"]) == NEW  # not waited for: told not to
    # A TOML boolean the till's config check takes, not the string "no".
    written = (roots["canary1"] / "etc/appliance/appliance.toml").read_text()
    assert "verify_tls = false" in written, written
    # --tags config: only the configuration, on the running release.
    os.remove(roots["canary1"] / "opt/appliance/current")
    os.symlink(OLD, roots["canary1"] / "opt/appliance/current")
    activity.unlink()
    inv = inventory(
        tmp_path / "inv.yml", roots, wheels, canary1={"appliance_inactivity_lock_seconds": 300}
    )
    code, out = play(tmp_path, inv, "--tags", "config")
    assert code == 0, out[-3000:]
    assert current_release(roots["canary1"]) == OLD
    assert (
        "inactivity_lock_seconds = 300"
        in (roots["canary1"] / "etc/appliance/appliance.toml").read_text()
    )


def test_provisioning_keeps_the_running_release() -> None:
    """provision.yml keeps a till's release; only rollout.yml's rings move it."""
    text = (REPO / "ansible/provision.yml").read_text()
    assert "appliance_keep_release: true" in text


def test_an_inventory_that_cannot_be_read_fails_the_run(tmp_path: Path) -> None:
    with FakeERPNext([terminal("MS1")], api_key=API_KEY, api_secret=SECRET) as erp:
        inv = tmp_path / "fleet.erpnext_terminals.yml"
        inv.write_text(f"plugin: erpnext_terminals\nurl: {erp.url}\n", "utf-8")
        env = ansible_env(tmp_path, ERPNEXT_API_KEY=API_KEY, ERPNEXT_API_SECRET="wrong-secret")
        result = run([tool("ansible-playbook"), "-i", str(inv), "rollout.yml"], env, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-2000:]
    assert "HTTP 401: ERPNext refused the API key or secret" in out
    assert "wrong-secret" not in out

"""rollout.yml and collect-logs.yml run for real with connection=local into scratch roots.

Two "terminals" (a canary and a stable one) are two directories on this machine: the role makes
real venvs from a wheelhouse built from this repository (the release under test and a
``.post1`` twin), renders and validates real configs, flips real symlinks and runs the
installed ``appliance health``. Only systemd is absent (``appliance_manage_services: false``);
the failing health check is a unit-state file saying the new till crash-loops, which is what
``appliance health`` would read from systemd. About 5 minutes on 2 busy cores (marked slow).
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.conftest import (
    NEW,
    OLD,
    ansible_env,
    current_release,
    local_inventory,
    migrate_store,
    run,
    tool,
)

SECRET = "terminal-secret-4242-abcd"
API_KEY = "terminal-key-1717"


def _inventory(path: Path, wheels: Path, roots: dict[str, Path], **per_host: Any) -> Path:
    hosts = {
        name: {
            "appliance_prefix": str(root),
            "appliance_terminal_id": name.upper(),
            **per_host.get(name, {}),
        }
        for name, root in roots.items()
    }
    return local_inventory(
        path,
        wheels,
        hosts,
        appliance_erpnext_url="http://127.0.0.1:9",  # written, never contacted
        appliance_erpnext_api_key=API_KEY,
        appliance_erpnext_api_secret=SECRET,
    )


def _play(playbook: str, inventory: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    result = run(
        [tool("ansible-playbook"), "-i", str(inventory), playbook, *extra],
        ansible_env(tmp_path),
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert SECRET not in output  # no_log on every task that touches it
    return result.returncode, output


@pytest.mark.slow
def test_rollout_rollback_idle_wait_and_logs(wheelhouse: Path, tmp_path: Path) -> None:
    roots = {"canary1": tmp_path / "canary1", "stable1": tmp_path / "stable1"}
    for root in roots.values():
        migrate_store(root)  # the till made its store on first start
    canary, stable = roots["canary1"], roots["stable1"]
    inv = tmp_path / "inventory.yml"

    def rollout(release: str, **host_vars: Any) -> tuple[int, str]:
        inventory = _inventory(inv, wheelhouse, roots, **host_vars)
        return _play("rollout.yml", inventory, tmp_path, "-e", f"appliance_release={release}")

    # 1. Both terminals get OLD: venv, config, secret, links, healthy.
    code, out = rollout(OLD)
    assert code == 0, out[-3000:]
    for root in roots.values():
        assert current_release(root) == OLD
        assert os.readlink(root / "opt/appliance/venv") == "current"
        assert (root / f"opt/appliance/{OLD}/.installed").read_text() == f"{OLD}\n"
        assert not list((root / "opt/appliance").glob(".wheels-*"))
        secret = root / "etc/appliance/erpnext.secret"
        assert secret.read_text() == SECRET + "\n"
        assert secret.stat().st_mode & 0o777 == 0o600
    config = (canary / "etc/appliance/appliance.toml").read_text()
    assert 'id = "CANARY1"' in config and f'api_key = "{API_KEY}"' in config
    assert f'api_secret_file = "{canary}/etc/appliance/erpnext.secret"' in config

    # 2. NEW crash-loops on the canary: it goes back to OLD (config too) and the run stops
    #    before the stable ring.
    crash = tmp_path / "units-crashing.json"
    crash.write_text(json.dumps({"appliance-tui.service": "failed"}), encoding="utf-8")
    fine = tmp_path / "units-fine.json"
    fine.write_text(json.dumps({"appliance-tui.service": "active"}), encoding="utf-8")
    failing = {
        "canary1": {
            # Up before the switch (OLD), crash-looping after it (NEW).
            "appliance_health_before_environment": {"APPLIANCE_UNITS_FROM": str(fine)},
            "appliance_health_environment": {"APPLIANCE_UNITS_FROM": str(crash)},
            "appliance_inactivity_lock_seconds": 300,
        }
    }
    code, out = rollout(NEW, **failing)
    assert code != 0
    assert f"{NEW} failed on canary1" in out and "tui: failed" in out
    assert f"rolled back to {OLD}" in out
    assert current_release(canary) == OLD
    assert (canary / "etc/appliance/appliance.toml").read_text() == config  # not the 300 s one
    assert (canary / f"opt/appliance/{NEW}/.installed").exists()  # kept: the next try is quick
    assert current_release(stable) == OLD
    assert not (stable / f"opt/appliance/{NEW}").exists()  # the stable ring was never touched

    # 3. A setting the new release refuses never lands; nothing switches.
    bad = {"canary1": {"appliance_inactivity_lock_seconds": 5}}
    code, out = rollout(NEW, **bad)
    assert code != 0 and "must be between 10 and 3600" in out
    assert current_release(canary) == OLD
    assert (canary / "etc/appliance/appliance.toml").read_text() == config

    # 4. A sale in progress on the canary (this process plays the till): it is left on OLD,
    #    reported busy; the stable ring goes on.
    activity = canary / "var/lib/appliance/till-activity.json"
    activity.write_text(json.dumps({"busy": True, "lines": 3, "pid": os.getpid()}), "utf-8")
    code, out = rollout(NEW)
    assert code == 0 and "canary1: busy (a sale in progress" in out
    assert current_release(canary) == OLD and current_release(stable) == NEW
    activity.unlink()

    # 5. Healthy NEW: canary, then stable; OLD stays installed for the next rollback.
    code, out = rollout(NEW)
    assert code == 0, out[-3000:]
    for root in roots.values():
        assert current_release(root) == NEW
        assert (root / f"opt/appliance/{OLD}/.installed").exists()

    # 6. Support bundles of both, fetched to the controller, without the secret or the key.
    dest = tmp_path / "bundles"
    code, out = _play(
        "collect-logs.yml",
        _inventory(
            inv,
            wheelhouse,
            roots,
            canary1={"support_prefix": str(canary)},
            stable1={"support_prefix": str(stable)},
        ),
        tmp_path,
        "-e",
        f"support_bundle_dest={dest}",
    )
    assert code == 0, out[-3000:]
    bundles = sorted(dest.iterdir())
    assert [p.name.split("-")[0] for p in bundles] == ["canary1", "stable1"]
    assert all(p.name.endswith("Z.tar.gz") and p.stat().st_mode & 0o777 == 0o600 for p in bundles)
    assert dest.stat().st_mode & 0o777 == 0o700
    with tarfile.open(bundles[0]) as tar:
        texts = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert any(name.endswith("health.json") for name in texts)
    versions = next(json.loads(t) for n, t in texts.items() if n.endswith("versions.json"))
    assert versions["current"] == NEW and versions["installed_releases"] == sorted([OLD, NEW])
    for name, text in texts.items():
        assert SECRET not in text and API_KEY not in text, name


def test_ansible_lint_is_clean(tmp_path: Path) -> None:
    result = run(
        [tool("ansible-lint"), "--offline", "--nocolor"], ansible_env(tmp_path), timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Profile 'production' was required, and it passed" in result.stdout + result.stderr

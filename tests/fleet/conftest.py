"""Running the real Ansible tools on ansible/ (this repo's), with its ansible.cfg; a wheelhouse
built from this repository, scratch terminal roots and POS Appliance Terminal records."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from appliance import __version__

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "image"))
from release_wheel import release_wheel  # noqa: E402  (image/ is not a package)

ANSIBLE_DIR = REPO / "ansible"
BIN = Path(sys.executable).parent

# The two releases of the wheelhouse fixture.
OLD = __version__
NEW = f"{__version__}.post1"
DOCTYPE = "POS Appliance Terminal"


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed (pip install -e '.[dev]' brings it)")
        return found
    return str(path)


def ansible_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This repo's ansible.cfg, a private home (no ~/.ansible of the machine), our venv first."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **extra,
    }
    for leaked in (
        "ERPNEXT_URL",
        "ERPNEXT_API_KEY",
        "ERPNEXT_API_SECRET",
        "ERPNEXT_API_SECRET_FILE",
    ):
        if leaked not in extra:
            env.pop(leaked, None)
    return env


def run(
    command: list[str], env: dict[str, str], timeout: float = 300, cwd: Path = ANSIBLE_DIR
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        cwd=cwd,
    )


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args],
        check=True,
        timeout=600,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What image/build makes: this repo's wheel (twice: OLD and NEW), its dependencies'."""
    root = tmp_path_factory.mktemp("wheelhouse")
    wheels = root / "wheels"
    for version in (OLD, NEW):
        release_wheel(version, wheels, root)
    _pip(
        "wheel",
        "-c",
        str(REPO / "constraints.txt"),
        "--find-links",
        str(wheels),
        "-w",
        str(wheels),
        f"appliance=={OLD}",
    )
    shutil.copy(REPO / "constraints.txt", wheels / "constraints.txt")
    return wheels


def current_release(root: Path) -> str:
    """Where a scratch terminal's /opt/appliance/current points."""
    return os.readlink(root / "opt/appliance/current")


def migrate_store(root: Path) -> None:
    """The till's store, as its first start makes it."""
    data = root / "var/lib/appliance"
    data.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "appliance.cli", "db", "migrate"],
        check=True,
        capture_output=True,
        env={**os.environ, "APPLIANCE_DATA": str(data)},
        timeout=120,
    )


def terminal(terminal_id: str, **fields: Any) -> dict[str, Any]:
    """A POS Appliance Terminal record as ERPNext holds it."""
    return {
        "doctype": DOCTYPE,
        "name": terminal_id,
        "terminal_id": terminal_id,
        "enabled": 1,
        "hostname": f"{terminal_id.lower()}.branch.example",
        "ssh_port": 22,
        "branch": "Main Street",
        "pos_profile": "Main POS",
        "ring": "stable",
        "target_release": "0.1.0",
        "device_settings": "",
        "inactivity_lock_seconds": 120,
        **fields,
    }


def local_inventory(
    path: Path,
    wheels: Path,
    hosts: dict[str, dict[str, Any]],
    **group_vars: Any,
) -> Path:
    """An inventory that runs the role on this machine against scratch terminal roots: hosts
    named ``canary*`` in ring_canary, the others in ring_stable; ``group_vars`` over the shared
    local settings."""
    local = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        # Already root here; a terminal is reached as root over SSH as well.
        "ansible_become": False,
        "appliance_wheelhouse": str(wheels),
        "appliance_python": sys.executable,
        "appliance_manage_services": False,
        "appliance_config_group": "root",
        "appliance_pos_profile": "Main POS",
        "appliance_health_retries": 2,
        "appliance_health_delay": 1,
        "appliance_idle_retries": 2,
        "appliance_idle_delay": 1,
        "appliance_soak_seconds": 0,
    }
    canary = {n: v for n, v in hosts.items() if n.startswith("canary")}
    body = {
        "all": {
            "vars": {**local, **group_vars},
            "children": {
                "terminals": {"children": {"ring_canary": {}, "ring_stable": {}}},
                "ring_canary": {"hosts": canary},
                "ring_stable": {"hosts": {n: v for n, v in hosts.items() if n not in canary}},
            },
        }
    }
    path.write_text(json.dumps(body), encoding="utf-8")  # JSON is YAML
    return path

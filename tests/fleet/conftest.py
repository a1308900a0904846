"""Running the real Ansible tools on ansible/ (this repo's), with its ansible.cfg."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "ansible"
BIN = Path(sys.executable).parent


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
    command: list[str], env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        cwd=ANSIBLE_DIR,
    )

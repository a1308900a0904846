"""This repository's appliance as a wheel at another version: the releases rollout tests use.

Shared by image/fleet_test.py and tests/fleet (which put image/ on sys.path). `patch`, if given,
edits the copied source tree before the build (the fleet test's release whose till crashes).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from appliance import __version__

REPO = Path(__file__).resolve().parent.parent


def release_wheel(
    version: str, dest: Path, work: Path, patch: Callable[[Path], None] | None = None
) -> Path:
    """Build appliance-<version>-*.whl into dest (from a copy of the source under work)."""
    src = work / f"src-{version}"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(
        REPO / "appliance", src / "appliance", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("pyproject.toml", "appliance/__init__.py"):
        path = src / name
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(f'"{__version__}"', f'"{version}"', 1), "utf-8")
    if patch is not None:
        patch(src)
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", "wheel"),
            *("--no-deps", "-w", str(dest), str(src)),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if built.returncode != 0:
        raise RuntimeError(f"pip wheel {version}: {built.stderr.strip()[-800:]}")
    shutil.rmtree(src)
    wheels = sorted(dest.glob(f"appliance-{version}-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip wheel {version}: no wheel in {dest}")
    return wheels[-1]

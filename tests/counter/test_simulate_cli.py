"""`appliance simulate` commits realistic sales via the real entry point; the store stays clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from appliance.demo import DEMO_CONFIG


def _appliance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args], capture_output=True, text=True, check=False
    )


def test_simulated_sales_leave_a_clean_store(data_dir: Path) -> None:
    run = _appliance("simulate", "--sales", "40", "--seed", "3")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["sales"] == 40
    assert summary["first_receipt"] == "DEMO1-000001"
    assert summary["commit_ms"]["p50"] > 0
    check = _appliance("db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    journal = _appliance("journal", "verify")
    assert journal.returncode == 0 and json.loads(journal.stdout)["status"] == "intact"


def _run_with(env_changes: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **env_changes)
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", "simulate", "--sales", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_simulate_without_a_database_says_so(tmp_path: Path) -> None:
    run = _run_with({"APPLIANCE_DATA": str(tmp_path), "APPLIANCE_CONFIG": str(DEMO_CONFIG)})
    assert run.returncode == 2
    assert "no database" in run.stderr and "appliance demo-data" in run.stderr


def test_simulate_without_a_config_names_the_file(tmp_path: Path) -> None:
    run = _run_with({"APPLIANCE_DATA": str(tmp_path), "APPLIANCE_CONFIG": str(tmp_path / "x.toml")})
    assert run.returncode == 2
    assert f"{tmp_path / 'x.toml'}: not found" in run.stderr

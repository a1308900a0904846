"""`appliance simulate` commits realistic sales via the real entry point; the store stays clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from appliance.demo import DEMO_CONFIG
from appliance.store import watermark


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


def test_each_sale_is_acknowledged_on_its_own_line_once_durable(data_dir: Path) -> None:
    """--each: one JSON line per committed sale, printed (and flushed) only after the store's
    commit and its high-water mark returned: what the power-cut test counts as acknowledged."""
    run = _appliance("simulate", "--sales", "12", "--seed", "5", "--each")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"sale"')]
    assert len(lines) == 12
    seqs = [line["journal_seq"] for line in lines]
    assert seqs == sorted(seqs) and len(set(seqs)) == 12
    receipts = [line["sale"] for line in lines]
    assert len(set(receipts)) == 12
    assert all(line["grand_total"] for line in lines)
    summary = json.loads(run.stdout[run.stdout.index("\n{\n") :])
    assert summary["sales"] == 12
    mark = watermark.read(data_dir / "pos.db")
    assert mark is not None and mark.journal_seq >= seqs[-1]

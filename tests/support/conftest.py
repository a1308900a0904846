"""The agent tests' real store, checkout and fake ERPNext, plus running the CLI as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.agent.conftest import checkout, db_path, erp, seeded_template

__all__ = ["checkout", "db_path", "erp", "run_cli", "seeded_template"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
    """``appliance <args>`` in a child process: exit code, parsed JSON stdout, stderr."""
    run = subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    document = json.loads(run.stdout) if run.stdout.strip() else None
    return run.returncode, document, run.stderr


def units_file(directory: Path, tui: str = "active", agent: str = "active") -> Path:
    path = directory / "units.json"
    path.write_text(
        json.dumps({"appliance-tui.service": tui, "appliance-agent.service": agent}),
        encoding="utf-8",
    )
    return path

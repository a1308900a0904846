"""The appliance units' states, from systemd when it runs this machine.

Off systemd (a container, a developer's machine, CI) the states are "unknown" and say why,
rather than pretending the services are up or down. Tests and the Ansible role's local runs
can hand the states in a JSON file (``--units-from`` or ``$APPLIANCE_UNITS_FROM``:
``{"appliance-tui.service": "active", ...}``); the report then names that file as its source.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TUI = "appliance-tui.service"
AGENT = "appliance-agent.service"
UNITS = (TUI, AGENT)
ENV_UNITS_FROM = "APPLIANCE_UNITS_FROM"
# sd_booted(3): the directory systemd creates when it is PID 1.
SYSTEMD_RUNTIME = Path("/run/systemd/system")


@dataclass(frozen=True)
class UnitStates:
    states: dict[str, str]  # unit -> active, inactive, failed, activating, ... or unknown
    source: str  # "systemd", "file <path>" or why the states are unknown

    @property
    def known(self) -> bool:
        return not self.source.startswith("unknown")


def unit_states(units_from: Path | None = None, units: tuple[str, ...] = UNITS) -> UnitStates:
    override = units_from or (
        Path(os.environ[ENV_UNITS_FROM]) if os.environ.get(ENV_UNITS_FROM) else None
    )
    if override is not None:
        data = json.loads(override.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{override}: must be a JSON object of unit: state")
        return UnitStates({u: str(data.get(u, "unknown")) for u in units}, f"file {override}")
    systemctl = shutil.which("systemctl")
    if not SYSTEMD_RUNTIME.is_dir() or systemctl is None:
        return UnitStates(dict.fromkeys(units, "unknown"), "unknown: not under systemd")
    run = subprocess.run(
        [systemctl, "is-active", *units], capture_output=True, text=True, timeout=10, check=False
    )
    # One line per unit, in order; exit status is non-zero when any is not active.
    lines = run.stdout.split()
    states = {u: lines[i] if i < len(lines) else "unknown" for i, u in enumerate(units)}
    return UnitStates(states, "systemd")

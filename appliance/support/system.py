"""What support needs about the machine under the till, for the support bundle: every part
gathered best-effort with a timeout, a missing tool said in the member (and the bundle's notes),
never fatal. Commands run without a shell; their output goes through the bundle's redaction
like every other member.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from appliance.provision_status import STATUS as PROVISION_STATUS

TIMEOUT = 20.0
# Logs of every appliance unit (the till, the agent, provisioning, the vault's units, ...) and of
# what they stand on: SSH, networking, name resolution, time and the vault's unlocking.
JOURNAL_UNITS = (
    "appliance-*",
    "ssh.service",
    "sshd.service",
    "systemd-networkd.service",
    "systemd-resolved.service",
    "systemd-timesyncd.service",
    "systemd-cryptsetup@vault.service",
    "NetworkManager.service",
)

Section = tuple[str, Sequence[str]]  # (title, argv: argv[0] found on PATH)


def run_sections(sections: Sequence[Section], missing: list[str], timeout: float = TIMEOUT) -> str:
    """Each command's output under its title; what could not run, said in its place."""
    out = []
    for title, argv in sections:
        out.append(f"== {title}: {' '.join(argv)}")
        out.append(_run(argv, missing, timeout))
    return "\n".join(out) + "\n"


def _run(argv: Sequence[str], missing: list[str], timeout: float) -> str:
    tool = shutil.which(argv[0]) if not os.path.isabs(argv[0]) else argv[0]
    if tool is None:
        missing.append(argv[0])
        return f"-- {argv[0]}: not installed on this machine"
    try:
        run = subprocess.run(
            [tool, *argv[1:]], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return f"-- timed out after {timeout:g} s"
    except OSError as exc:
        return f"-- could not run: {exc.strerror}"
    text = run.stdout
    if run.returncode != 0:
        text += f"\n-- exit {run.returncode}: {run.stderr.strip()}"
    return text


def journal_args(since_hours: float) -> list[str]:
    units = [arg for unit in JOURNAL_UNITS for arg in ("-u", unit)]
    since = f"--since=-{max(1, round(since_hours * 3600))}s"
    return ["journalctl", *units, since, "--no-pager", "-o", "short-iso-precise"]


BOOTS_KERNEL_FAILED: list[Section] = [
    ("boots", ["journalctl", "--list-boots", "--no-pager"]),
    ("kernel log, this boot", ["journalctl", "-k", "-b", "--no-pager", "-o", "short-iso"]),
    ("failed units", ["systemctl", "--failed", "--no-pager", "--plain"]),
]


CLOCK: list[Section] = [
    ("clock", ["timedatectl", "show"]),
    ("time sync", ["timedatectl", "timesync-status", "--no-pager"]),
]
NETWORK: list[Section] = [
    ("addresses", ["ip", "-brief", "address"]),
    ("routes", ["ip", "route"]),
    ("links", ["networkctl", "list", "--no-pager"]),
    ("sockets listening", ["ss", "-tlnH"]),
]
DNS: list[Section] = [("resolver", ["resolvectl", "status", "--no-pager"])]


def appliance(args: Sequence[str], timeout: float = TIMEOUT) -> dict[str, Any]:
    """``appliance <args>`` in a child process: its JSON and exit code (a failure is kept)."""
    run = subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    try:
        document: Any = json.loads(run.stdout) if run.stdout.strip() else None
    except ValueError:
        document = run.stdout
    return {"exit": run.returncode, "output": document, "stderr": run.stderr.strip()}


def resources(root: Path = Path("/")) -> dict[str, Any]:
    usage = shutil.disk_usage(root)
    return {
        "memory": _proc_table(Path("/proc/meminfo")),
        "load": _first_line(Path("/proc/loadavg")),
        "uptime_seconds": _first_line(Path("/proc/uptime")).split(" ")[0],
        "root_filesystem": {
            "path": str(root),
            "total_mb": usage.total // 2**20,
            "used_mb": usage.used // 2**20,
            "free_mb": usage.free // 2**20,
            "used_percent": round(100 * usage.used / usage.total, 1) if usage.total else None,
        },
    }


def _first_line(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError) as exc:
        return f"unreadable: {exc}"


def _proc_table(path: Path) -> dict[str, str] | str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def dns_files() -> str:
    out = []
    for path in (Path("/etc/resolv.conf"), Path("/etc/hosts"), Path("/etc/hostname")):
        try:
            out.append(f"== {path}\n{path.read_text(encoding='utf-8')}")
        except OSError as exc:
            out.append(f"== {path}\n-- unreadable: {exc.strerror}")
    return "\n".join(out)


def provisioning(status: Path = PROVISION_STATUS) -> dict[str, Any]:
    """The last provisioning's status file (never a secret) and whether the till is set up."""
    try:
        raw: Any = json.loads(status.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raw = None
    except (OSError, ValueError) as exc:
        raw = f"unreadable: {exc}"
    return {"status_file": str(status), "status": raw}

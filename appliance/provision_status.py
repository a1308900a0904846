"""``/run/appliance-provision/status.json``: what provisioning last did, for the till's screen.

Written by root (`appliance provision`, image/rootfs/usr/lib/appliance-image/provision),
world-readable, never a secret; read by the counter, which says on tty1 when a provisioning
file was refused. Kept small: the counter imports it on its way to the sign-in screen.
"""

from __future__ import annotations

import json
from pathlib import Path

STATUS = Path("/run/appliance-provision/status.json")


def shown(text: str, limit: int = 300) -> str:
    """One printable line (the journal, the console, tty1): parts of the file are hostile."""
    flat = "".join(c if c.isprintable() else "?" for c in " ".join(text.splitlines()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def refusal(path: Path) -> str:
    """Why the last provisioning file was refused, or "" (none, or an unreadable status)."""
    return last_reason(path, ("refused",))


def failure(path: Path) -> str:
    """Why an unprovisioned till is still unprovisioned (a bad or unsigned file), or ""."""
    return last_reason(path, ("error", "refused"))


def last_reason(path: Path, states: tuple[str, ...]) -> str:
    """The status's reason if its state is one of ``states``, else ""."""
    try:
        with path.open("rb") as fh:
            status = json.loads(fh.read(64 * 1024))
    except (OSError, ValueError):
        return ""
    if not isinstance(status, dict) or status.get("state") not in states:
        return ""
    reason = status.get("reason")
    return shown(reason) if isinstance(reason, str) else ""

"""Can this terminal sell, and if not, exactly what it needs, in the words an installer acts on.

Read at the till's cold start, before the sign-in screen: the standard library's ``sqlite3``
only, never SQLAlchemy or the store's models (the tables are named by their SQL names).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Config, ConfigError
from appliance.provision_status import STATUS, failure
from appliance.store import watermark


@dataclass(frozen=True)
class Readiness:
    """Whether this terminal can sell, and if not, exactly what it needs."""

    needs: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.needs


UNPROVISIONED = "UNPROVISIONED"  # the terminal id in the image's placeholder config


def unconfigured(problem: ConfigError) -> Readiness:
    """No config the till can use (none yet, or a bad one): said on screen, not in a crash loop."""
    return Readiness(
        (
            str(problem),
            "Provisioning (Ansible) writes that file with this terminal's id and POS Profile.",
        )
    )


def readiness(db: Path, cfg: Config, provisioning_status: Path = STATUS) -> Readiness:
    """What a brand-new (or half-set-up) terminal is missing, in the words an installer needs."""
    if cfg.terminal.id == UNPROVISIONED:
        said = failure(provisioning_status)
        return Readiness(
            (
                f"Not provisioned: {cfg.source} is the image's placeholder.",
                *([f"The provisioning file was not applied: {said}"] if said else []),
                "Provision the terminal with Ansible: it writes the config with this terminal's "
                "id and POS Profile, and the sync agent then pulls the store.",
            )
        )
    try:
        watermark.check(db)
    except watermark.StoreBehindError as exc:
        return Readiness((str(exc),))
    if not db.exists():
        return Readiness(
            (
                f"No database at {db}.",
                "Connect the terminal to ERPNext and let the sync agent run its first pull "
                "(`appliance sync --once`).",
                "To try the till without ERPNext: `appliance demo`.",
            )
        )
    conn = read_only(db)
    try:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "pos_profiles" not in tables:
            return Readiness(
                (f"The database at {db} has no tables.", "Run `appliance db migrate`, then sync.")
            )
        needs: list[str] = []
        profile = "SELECT 1 FROM pos_profiles WHERE name = ?"  # the PosProfile model's key
        if conn.execute(profile, (cfg.pos_profile,)).fetchone() is None:
            needs.append(
                f"POS Profile {cfg.pos_profile!r} (named in {cfg.source}) is not in the "
                "local store: let the sync agent pull it from ERPNext."
            )
        if not conn.execute("SELECT count(*) FROM cashiers").fetchone()[0]:
            needs.append(
                "No cashiers: add POS users with a PIN in ERPNext and let the agent sync them."
            )
        return Readiness(tuple(needs))
    finally:
        conn.close()


def read_only(db: Path) -> sqlite3.Connection:
    """A read-only ``sqlite3`` connection: start-up reads that must not wait for SQLAlchemy."""
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)

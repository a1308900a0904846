"""``appliance support-bundle``: one .tar.gz with what support needs to look at a terminal.

Every part is gathered on its own: a part that fails (no journal, no database, a device that
hangs) becomes a note in ``manifest.json`` and the rest of the bundle is still made. Nothing
secret goes in: the config is redacted, the ERPNext secret is read only to be blanked (a log
line may quote it bare), and every text member is scrubbed of it, the config's secret values,
credentials in URLs, and the e-mail
addresses and phone numbers ERPNext's messages quote of customers before it is written
(:mod:`appliance.support.redact`). Receipts are listed by number, time and totals only: no
customer, no cashier, no lines.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance import __version__, paths
from appliance.agent.client import ERPNextError, read_secret
from appliance.config import ConfigError, load_config
from appliance.store import sync_state as state
from appliance.store.check import check_database
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.models import OutboxEntry, PosInvoice
from appliance.support import system
from appliance.support.health import HealthOptions, run_health
from appliance.support.redact import redact_personal, redact_toml_text, scrub, secret_values

RELEASES = Path("/opt/appliance")
ENV_RELEASES = "APPLIANCE_RELEASES"
RECEIPTS = 50
DEVICES_TIMEOUT = 20.0
JOURNAL_TIMEOUT = 60.0


@dataclass
class Bundle:
    """The members gathered so far (name -> text) and the notes on what could not be."""

    secrets: set[str] = field(default_factory=set)
    members: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, gather: Callable[[], str | dict[str, Any] | list[Any]]) -> None:
        try:
            content = gather()
        except Exception as exc:  # one broken part must not cost the whole bundle
            self.notes.append(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0])
            return
        if not isinstance(content, str):
            content = json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"
        self.members[name] = content

    def write(self, out: Path, manifest: dict[str, Any]) -> None:
        manifest = {**manifest, "members": sorted(self.members), "notes": self.notes}
        members = {"manifest.json": json.dumps(manifest, indent=2, sort_keys=True) + "\n"}
        members.update(self.members)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        # Logs and receipts are the shop's business: readable by the owner only.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        stamp = int(time.time())
        top = out.name.removesuffix(".tar.gz")
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, text in members.items():
                data = redact_personal(scrub(text, self.secrets)).encode("utf-8")
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size, info.mtime, info.mode = len(data), stamp, 0o600
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, out)


def make_bundle(out: Path, since_hours: float, config: Path | None) -> dict[str, Any]:
    config_path = config or paths.config_file()
    bundle = Bundle()
    config_text = _read_config(config_path, bundle)
    bundle.secrets = secret_values(config_text or "") | _erpnext_secret(config_path)
    health = run_health(HealthOptions(config=config, max_sync_age=0))
    bundle.add("health.json", lambda: health)
    bundle.add("versions.json", _versions)
    if config_text is not None:
        bundle.add("config/appliance.toml", lambda: redact_toml_text(config_text))
    db = paths.db_path()
    if db.is_file():
        bundle.add("sync-state.json", lambda: _from_store(db, _sync_state))
        bundle.add("db-check.json", lambda: _from_store(db, _db_check))
        bundle.add("receipts.json", lambda: _from_store(db, _receipts))
    else:
        bundle.notes.append(f"no database at {db}: no sync state, db check or receipts")
    bundle.add("devices.json", lambda: _devices(config_path))
    _journal(bundle, since_hours)
    _system(bundle, config_path)
    manifest = {
        "terminal": health["terminal"],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "since_hours": since_hours,
        "appliance": __version__,
    }
    bundle.write(out, manifest)
    return {
        "bundle": str(out),
        "bytes": out.stat().st_size,
        "members": sorted(["manifest.json", *bundle.members]),
        "notes": bundle.notes,
    }


def _erpnext_secret(config: Path) -> set[str]:
    """The ERPNext API secret, to be blanked wherever a member quotes it: it is in its own file
    (or the agent's systemd credential), not in the config. Unreadable: nothing to blank."""
    try:
        erpnext = load_config(config).erpnext
        return {read_secret(erpnext)} if erpnext is not None else set()
    except (ConfigError, ERPNextError, OSError):
        return set()


def _read_config(path: Path, bundle: Bundle) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        bundle.notes.append(f"config/appliance.toml: cannot read {path}: {exc.strerror}")
        return None


def _versions() -> dict[str, Any]:
    releases = Path(os.environ.get(ENV_RELEASES) or RELEASES)
    installed = (
        sorted(p.name for p in releases.iterdir() if p.is_dir() and not p.is_symlink())
        if releases.is_dir()
        else []
    )
    current = releases / "current"
    return {
        "appliance": __version__,
        "running_from": sys.prefix,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "os_release": _os_release(),
        "releases_dir": str(releases),
        "installed_releases": installed,
        "current": os.readlink(current) if current.is_symlink() else None,
    }


def _os_release() -> dict[str, str]:
    for candidate in (Path("/etc/os-release"), Path("/usr/lib/os-release")):
        if candidate.is_file():
            pairs = (
                line.split("=", 1)
                for line in candidate.read_text(encoding="utf-8").splitlines()
                if "=" in line and not line.startswith("#")
            )
            return {k: v.strip().strip('"') for k, v in pairs}
    return {}


def _from_store(db: Path, read: Callable[[Session], Any]) -> Any:
    engine = create_db_engine(db)
    try:
        with unit_of_work(make_session_factory(engine, read_only=True)) as uow:
            return read(uow.session)
    finally:
        engine.dispose()


def _sync_state(session: Session) -> dict[str, Any]:
    return {
        "agent": state.read_state(session),
        "outbox": state.queue_depth(session),
        "quarantined": state.quarantined(session),
        # Refused documents, totals mismatches, retries and records the pull skipped, by name.
        "sync_journal": state.sync_journal(session, latest=100),
    }


def _db_check(session: Session) -> dict[str, Any]:
    problems = check_database(session)
    return {"ok": not problems, "problems": [p.as_dict() for p in problems]}


def _receipts(session: Session) -> list[dict[str, Any]]:
    stmt = (
        select(PosInvoice, OutboxEntry.state, OutboxEntry.erpnext_name)
        .outerjoin(OutboxEntry, OutboxEntry.offline_id == PosInvoice.offline_id)
        .order_by(PosInvoice.id.desc())
        .limit(RECEIPTS)
    )
    return [
        {
            "receipt_no": sale.receipt_no,
            "offline_id": sale.offline_id,
            "posting": f"{sale.posting_date.isoformat()} {sale.posting_time.isoformat()}",
            "created_at": sale.created_at.isoformat(timespec="seconds"),
            "is_return": sale.is_return,
            "status": sale.status.value,
            "grand_total": str(sale.grand_total),
            "rounded_total": str(sale.rounded_total),
            "paid_amount": str(sale.paid_amount),
            "sync": outbox_state.value.lower() if outbox_state is not None else None,
            "erpnext_name": erpnext_name,
        }
        for sale, outbox_state, erpnext_name in session.execute(stmt)
    ]


def _devices(config: Path) -> dict[str, Any]:
    # A child process: a driver stuck on a port cannot hang the bundle past the timeout.
    run = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "devices", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=DEVICES_TIMEOUT,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"`appliance devices` exited {run.returncode}: {run.stderr.strip()}")
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def _journal(bundle: Bundle, since_hours: float) -> None:
    command = system.journal_args(since_hours)
    journalctl = shutil.which(command[0])
    if journalctl is None:
        bundle.notes.append("journal: journalctl not found on this machine")
        return

    def gather() -> str:
        run = subprocess.run(
            [journalctl, *command[1:]],
            capture_output=True,
            text=True,
            timeout=JOURNAL_TIMEOUT,
            check=False,
        )
        if run.returncode != 0:
            raise RuntimeError(f"journalctl exited {run.returncode}: {run.stderr.strip()}")
        return run.stdout + (f"\n-- journalctl said: {run.stderr.strip()}\n" if run.stderr else "")

    bundle.add("journal.txt", gather)


def _system(bundle: Bundle, config: Path) -> None:
    """The machine: each part best-effort, a missing tool said in its member and the notes."""
    missing: list[str] = []
    cfg = ["--config", str(config)]
    bundle.add("appliance-status.json", lambda: system.appliance(["status", *cfg]))
    bundle.add("journal-verify.json", lambda: system.appliance(["journal", "verify", *cfg]))
    bundle.add("provisioning.json", system.provisioning)
    bundle.add("system/resources.json", system.resources)
    bundle.add(
        "system/boots-kernel-failed.txt",
        lambda: system.run_sections(system.BOOTS_KERNEL_FAILED, missing),
    )
    bundle.add("system/clock.txt", lambda: system.run_sections(system.CLOCK, missing))
    bundle.add("system/network.txt", lambda: system.run_sections(system.NETWORK, missing))
    bundle.add(
        "system/dns.txt",
        lambda: system.dns_files() + system.run_sections(system.DNS, missing),
    )
    if missing:
        bundle.notes.append("not installed: " + ", ".join(sorted(set(missing))))

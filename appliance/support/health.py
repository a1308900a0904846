"""``appliance health``: is this terminal fit to sell and to sync? One JSON verdict.

Each check answers ok/not ok with a one-line status; the verdict is ok when every check is.
What cannot be known here (unit states off systemd, a till that never synced) is reported as
such and does not fail the verdict: a rollout must not roll back for a fact nobody can see.
Whether a sale is in progress is reported beside the checks, never as one: a busy till is
healthy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from appliance import __version__, paths
from appliance.config import Config, ConfigError, load_config
from appliance.store import sync_state as state
from appliance.store.check import check_database
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.support.activity import read_activity
from appliance.support.units import AGENT, TUI, unit_states


@dataclass(frozen=True)
class Check:
    ok: bool
    status: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status, **self.detail}


@dataclass(frozen=True)
class HealthOptions:
    config: Path | None = None
    max_sync_age: float = 86_400.0  # seconds; 0: report the age, never fail on it
    max_failed_cycles: int = state.FAILING_CYCLES  # failed sync cycles in a row; 0: never fail
    min_free_mb: int = 500
    units_from: Path | None = None


def run_health(options: HealthOptions) -> dict[str, Any]:
    checks: dict[str, Check] = {}
    cfg: Config | None = None
    try:
        cfg = load_config(options.config)
        checks["config"] = Check(True, f"valid: {cfg.source}")
    except ConfigError as exc:
        checks["config"] = Check(False, str(exc))
    checks.update(_units(cfg, options.units_from))
    data = paths.data_dir()
    db = paths.db_path()
    if db.is_file():
        checks.update(_with_store(db, cfg, options))
    else:
        missing = f"no database at {db}"
        checks["database"] = Check(False, missing)
        checks["sync"] = Check(False, missing)
    checks["disk"] = _disk(data, options.min_free_mb)
    try:
        activity: dict[str, Any] = read_activity(data).as_dict()
    except ValueError as exc:
        activity = {"busy": None, "error": str(exc)}
    return {
        "ok": all(c.ok for c in checks.values()),
        "terminal": cfg.terminal.id if cfg else None,
        "version": __version__,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "checks": {name: c.as_dict() for name, c in checks.items()},
        "sale_in_progress": activity,
    }


def _units(cfg: Config | None, units_from: Path | None) -> dict[str, Check]:
    try:
        found = unit_states(units_from)
    except (OSError, ValueError) as exc:
        bad = Check(False, f"cannot read unit states: {exc}")
        return {"tui": bad, "agent": bad}
    # A till without an [erpnext] section has no agent to run (and the image keeps it stopped).
    agent_needed = cfg is None or cfg.erpnext is not None
    out = {}
    for name, unit, needed in (("tui", TUI, True), ("agent", AGENT, agent_needed)):
        unit_state = found.states[unit]
        detail = {"unit": unit, "state": unit_state, "source": found.source}
        if not found.known:
            out[name] = Check(True, found.source, detail)
        elif not needed:
            out[name] = Check(True, f"{unit_state} (not needed: no [erpnext] section)", detail)
        else:
            out[name] = Check(unit_state == "active", unit_state, detail)
    return out


def _with_store(db: Path, cfg: Config | None, options: HealthOptions) -> dict[str, Check]:
    engine = create_db_engine(db)
    try:
        with unit_of_work(make_session_factory(engine, read_only=True)) as uow:
            return {
                "database": _database(db, uow.session),
                "sync": _sync(uow.session, cfg, options),
            }
    except SQLAlchemyError as exc:
        reason = f"cannot read {db}: {type(exc).__name__}: {exc}".splitlines()[0]
        return {"database": Check(False, reason), "sync": Check(False, reason)}
    finally:
        engine.dispose()


def _database(db: Path, session: Session) -> Check:
    problems = check_database(session)
    detail: dict[str, Any] = {
        "database": str(db),
        "problems": [p.as_dict() for p in problems[:20]],
        "problem_count": len(problems),
    }
    if problems:
        return Check(False, f"{len(problems)} problem(s); see `appliance db check`", detail)
    return Check(True, "clean", detail)


def _parse_at(entry: Any) -> datetime | None:
    if not isinstance(entry, dict) or not entry.get("at"):
        return None
    try:
        at = datetime.fromisoformat(str(entry["at"]))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _sync(session: Session, cfg: Config | None, options: HealthOptions) -> Check:
    max_sync_age = options.max_sync_age
    agent = state.read_state(session)
    queue = state.queue_depth(session)
    push_at, pull_at = _parse_at(agent.get("last_push")), _parse_at(agent.get("last_pull"))
    stamps = [t for t in (push_at, pull_at) if t is not None]
    last = max(stamps) if stamps else None
    age = (datetime.now(UTC) - last).total_seconds() if last else None
    detail: dict[str, Any] = {
        "link": agent.get("link", state.Link.UNKNOWN.value),
        "last_error": agent.get("last_error"),
        "last_push_at": push_at.isoformat() if push_at else None,
        "last_pull_at": pull_at.isoformat() if pull_at else None,
        "age_seconds": round(age) if age is not None else None,
        "max_age_seconds": max_sync_age or None,
        "unsynced": queue["ready"] + queue["in_flight"] + queue["quarantined"],
        "quarantined": queue["quarantined"],
        "failed_cycles": agent.get("failed_cycles", 0),
    }
    if cfg is not None and cfg.erpnext is None:
        return Check(True, "no ERPNext link configured (offline by design)", detail)
    if detail["link"] == state.Link.STOPPED.value:
        return Check(False, f"sync stopped, a person must act: {detail['last_error']}", detail)
    failing, limit = detail["failed_cycles"], options.max_failed_cycles
    if limit and isinstance(failing, int) and failing >= limit:
        # Pushes or pulls refused for several cycles: worth a look long before the age limit.
        status = f"sync failed {failing} cycles in a row: {detail['last_error']}"
        return Check(False, status, detail)
    if age is None:
        return Check(True, "never synced yet", detail)
    if max_sync_age and age > max_sync_age:
        return Check(False, f"last sync {round(age)} s ago (limit {max_sync_age:g} s)", detail)
    return Check(True, f"last sync {round(age)} s ago", detail)


def _disk(data: Path, min_free_mb: int) -> Check:
    # The data directory may not exist yet on a fresh terminal: measure the filesystem it goes on.
    where = data
    while not where.exists() and where != where.parent:
        where = where.parent
    usage = shutil.disk_usage(where)
    free_mb = usage.free // (1024 * 1024)
    detail = {"path": str(data), "free_mb": free_mb, "min_free_mb": min_free_mb}
    if free_mb < min_free_mb:
        return Check(False, f"{free_mb} MiB free under {data} (minimum {min_free_mb})", detail)
    return Check(True, f"{free_mb} MiB free", detail)

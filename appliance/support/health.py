"""``appliance health``: is this terminal fit to sell and to sync? One JSON verdict.

Each check answers ok/not ok with a one-line status; the verdict is ok when every check is.
What cannot be known here (unit states off systemd) is reported as such and does not fail the
verdict: a rollout must not roll back for a fact nobody can see. A till that never synced fails
once its agent has tried for longer than ``max_link_down`` (an agent that never runs fails the
``agent`` check); a link down past that limit fails too; so does any quarantined document, each
named with ERPNext's reason (the ``queue`` check).
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
from appliance.agent import shift_notices
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
    max_link_down: float = 900.0  # seconds the link may be down (or never up); 0: never fail
    # False: leave the database check out (it reads the whole store: seconds on a year of
    # sales); the fleet view runs it hourly, not every minute.
    database: bool = True
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
        checks["queue"] = Check(False, missing)
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
            checks = {"database": _database(db, uow.session)} if options.database else {}
            return {
                **checks,
                "sync": _sync(uow.session, cfg, options),
                "queue": _queue(uow.session),
            }
    except SQLAlchemyError as exc:
        reason = f"cannot read {db}: {type(exc).__name__}: {exc}".splitlines()[0]
        bad = Check(False, reason)
        return {"database": bad, "sync": bad, "queue": bad}
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
    shift = shift_notices.shift_problem(agent)
    detail["shift_problem"] = shift.as_dict() if shift else None
    if shift is not None and shift.needs_person:
        # A closing ERPNext failed to consolidate, an opening it refused: sales still flow (or
        # wait on the till), but the shift does not reach the books until IT acts.
        return Check(False, shift.text, detail)
    failing, limit = detail["failed_cycles"], options.max_failed_cycles
    if limit and isinstance(failing, int) and failing >= limit:
        # Pushes or pulls refused for several cycles: worth a look long before the age limit.
        status = f"sync failed {failing} cycles in a row: {detail['last_error']}"
        return Check(False, status, detail)
    down_for = _down_for(agent)
    limit_down = options.max_link_down
    if age is None:
        return _never_synced(detail, down_for, limit_down)
    if limit_down and down_for is not None and down_for > limit_down:
        status = f"link down for {_minutes(down_for)} (limit {_minutes(limit_down)})"
        return Check(False, f"{status}: {detail['last_error']}", detail)
    if max_sync_age and age > max_sync_age:
        return Check(False, f"last sync {round(age)} s ago (limit {max_sync_age:g} s)", detail)
    return Check(True, f"last sync {round(age)} s ago", detail)


def _down_for(agent: dict[str, Any]) -> float | None:
    """Seconds since the link went down (or the agent first failed to reach ERPNext)."""
    if agent.get("link") not in (state.Link.DOWN.value, state.Link.STOPPED.value):
        return None
    since = _parse_at({"at": agent.get("link_since")})
    return (datetime.now(UTC) - since).total_seconds() if since else None


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def _never_synced(detail: dict[str, Any], down_for: float | None, limit: float) -> Check:
    if detail["link"] == state.Link.UNKNOWN.value:
        # No cycle recorded yet: an agent that does not run fails the `agent` check; one that
        # just started has its first cycle within seconds. Failing here would roll back a
        # rollout that ran before the first cycle, for nothing the release did.
        return Check(True, "never synced yet: no agent cycle recorded", detail)
    if down_for is None or not limit or down_for <= limit:
        why = f" (link {detail['link']}: {detail['last_error']})" if detail["last_error"] else ""
        return Check(True, f"never synced yet{why}", detail)
    return Check(
        False,
        f"never synced with ERPNext: link down for {_minutes(down_for)}: {detail['last_error']}",
        detail,
    )


def _queue(session: Session) -> Check:
    """Unsent documents are normal (offline is allowed); a quarantined one needs a person."""
    depth = state.queue_depth(session)
    held = state.quarantined(session)
    detail: dict[str, Any] = {
        "unsent": depth["ready"] + depth["in_flight"],
        "quarantined": len(held),
        "reasons": [f"{q['doctype']} {q['offline_id']}: {q['message']}" for q in held[:20]],
    }
    if not held:
        return Check(True, f"{detail['unsent']} waiting to be sent, none quarantined", detail)
    noun = "document" if len(held) == 1 else "documents"
    return Check(
        False, f"{len(held)} {noun} quarantined: " + "; ".join(detail["reasons"][:3]), detail
    )


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

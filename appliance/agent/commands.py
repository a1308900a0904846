"""Handlers for ``appliance agent``, ``appliance sync --once`` and ``appliance status``.

Exit codes: 0 done; 1 the ERPNext link is down (or another agent holds the store, or ERPNext
holds the shift: a closing it failed to consolidate, an opening it refused); 2 the command could
not run (config, store); 3 sync stopped on an auth, TLS or setup failure.
Errors are one line on stderr; ``sync --once`` and ``status`` print JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appliance import paths
from appliance.agent import anchors, server_mode, shift_notices
from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.fleet import reporter_for
from appliance.agent.problems import problem_of
from appliance.agent.service import (
    AgentService,
    AlreadyRunningError,
    Notifier,
    Syncer,
    agent_lock,
    agent_running,
    setup_logging,
)
from appliance.config import Config, ConfigError, ERPNextConfig, load_config
from appliance.scrub import scrub
from appliance.store import sync_state as state
from appliance.store import watermark
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import MigrationError, upgrade_to_head
from appliance.store.sync_state import Link

EXIT_OK = 0
EXIT_LINK = 1
EXIT_USAGE = 2
EXIT_STOPPED = 3

log = logging.getLogger(__name__)


def _fail(command: str, reason: str, code: int = EXIT_USAGE) -> int:
    print(scrub(f"{command}: {reason}".splitlines()[0]), file=sys.stderr)
    return code


def _emit(document: dict[str, Any]) -> None:
    # Stored texts are scrubbed when written; this also covers older rows and the config's url.
    sys.stdout.write(scrub(json.dumps(document, indent=2, sort_keys=True, default=str)) + "\n")
    sys.stdout.flush()


def _config(args: argparse.Namespace) -> Config:
    return load_config(Path(args.config) if getattr(args, "config", None) else None)


def _prepare(args: argparse.Namespace) -> tuple[ERPNextConfig, Path]:
    """The config's [erpnext] section and a store migrated to head (created if missing)."""
    cfg = _config(args)
    if cfg.erpnext is None:
        raise ConfigError(f"{cfg.source}: [erpnext]: is required to sync (this till has no link)")
    db = paths.db_path()
    # Never a fresh store over one that lost committed sales: that would hide the loss and
    # restart receipt numbering (store/watermark.py).
    try:
        watermark.check(db)
    except watermark.StoreBehindError as exc:
        raise ConfigError(str(exc)) from None
    db.parent.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(db)
    return cfg.erpnext, db


def _syncer(args: argparse.Namespace, erpnext: ERPNextConfig, db: Path) -> Syncer:
    cfg = _config(args)
    return Syncer(
        erpnext,
        db,
        interval=args.interval,
        stop_retry=args.stop_retry,
        batch_size=args.batch_size,
        page_size=args.page_size,
        fleet=reporter_for(cfg.terminal.id, cfg.source),
        store_credit_modes=cfg.terminal.store_credit_modes,
    )


def agent(args: argparse.Namespace) -> int:
    """The long-running service (systemd Type=notify)."""
    setup_logging(args.verbose)
    try:
        erpnext, db = _prepare(args)
    except (ConfigError, MigrationError, SQLAlchemyError, OSError) as exc:
        log.error("cannot start: %s", exc)
        return _fail("agent", str(exc))
    try:
        with agent_lock(db.parent):
            syncer = _syncer(args, erpnext, db)
            try:
                service = AgentService(syncer, Notifier(), pull_interval=args.pull_interval)
                return service.run()
            finally:
                syncer.close()
    except AlreadyRunningError as exc:
        return _fail("agent", str(exc), EXIT_LINK)


def sync_once(args: argparse.Namespace) -> int:
    """One full cycle (recover, push, pull); JSON summary on stdout."""
    # stdout carries the JSON and stderr one line on failure: the log only with --verbose.
    setup_logging(args.verbose, env={})
    if not args.verbose:
        logging.getLogger().setLevel(logging.CRITICAL)
    try:
        erpnext, db = _prepare(args)
    except (ConfigError, MigrationError, SQLAlchemyError, OSError) as exc:
        return _fail("sync", str(exc))
    try:
        with agent_lock(db.parent):
            syncer = _syncer(args, erpnext, db)
            try:
                recovered = syncer.recover()
                result = syncer.cycle(pull=True)
                summary = {
                    "recovered": recovered,
                    **result.as_dict(),
                    "queue": _queue(syncer),
                    "fleet": syncer.last_visit.as_dict() if syncer.last_visit else None,
                }
            finally:
                syncer.close()
    except AlreadyRunningError as exc:
        return _fail("sync", f"{exc}: the agent syncs continuously already", EXIT_LINK)
    _emit(summary)
    if result.link is Link.STOPPED:
        return _fail("sync", f"stopped: {result.error}", EXIT_STOPPED)
    if result.link is Link.DOWN:
        return _fail("sync", f"ERPNext link down: {result.error}", EXIT_LINK)
    if result.error is not None:  # the cycle broke off (a bug, the store): not a success
        return _fail("sync", f"cycle failed: {result.error}", EXIT_LINK)
    shift = result.shift_problem
    if shift is not None and shift.get("needs_person"):
        # Everything went through, but ERPNext holds the shift: a person must act.
        return _fail("sync", f"shift: {shift['text']}", EXIT_LINK)
    return EXIT_OK


def journal_against_erpnext(args: argparse.Namespace) -> int:
    """``journal verify --against-erpnext``: the anchors ERPNext holds against the till's chain.
    Exit 0 intact, 1 rewritten, 2 could not run (no config, link down: one line why)."""
    try:
        cfg = _config(args)
        if cfg.erpnext is None:
            raise ConfigError(f"{cfg.source}: [erpnext]: is required to ask ERPNext")
        db = paths.db_path()
        if not db.is_file():
            raise ConfigError(f"no database at {db}")
        client = ERPNextClient.from_config(cfg.erpnext)
    except (ConfigError, ERPNextError) as exc:
        return _fail("journal verify", str(exc))
    engine = create_db_engine(db)
    try:
        doctypes = server_mode.detect(client).sale_doctypes
        rows = list(anchors.erpnext_anchors(client, cfg.terminal.id, doctypes))
        with make_session_factory(engine, read_only=True)() as session:
            report = anchors.compare(session, rows)
    except ERPNextError as exc:
        return _fail("journal verify", f"cannot ask ERPNext: {exc}")
    finally:
        client.close()
        engine.dispose()
    _emit({"database": str(db), "erpnext": cfg.erpnext.url, **report.as_dict()})
    return EXIT_OK if report.intact else 1


def _queue(syncer: Syncer) -> dict[str, int]:
    with syncer.read() as session:
        try:
            return state.queue_depth(session)
        finally:
            session.rollback()


def status(args: argparse.Namespace) -> int:
    """The agent's view: link, last push/pull, queue depth, quarantined documents."""
    db = paths.db_path()
    if not db.is_file():
        return _fail("status", f"no database at {db} (set APPLIANCE_DATA, or start the agent)")
    document: dict[str, Any] = {"database": str(db)}
    try:
        cfg = _config(args)
    except ConfigError as exc:
        document["config_error"] = str(exc)
    else:
        document["terminal"] = cfg.terminal.id
        document["erpnext"] = cfg.erpnext.url if cfg.erpnext else None
    engine = create_db_engine(db)
    try:
        with make_session_factory(engine, read_only=True)() as session:
            try:
                agent_state = state.read_state(session)
                queue = state.queue_depth(session)
                held = state.quarantined(session)
                sync_journal = state.sync_journal(session)
                exported = state.exported(session)
            finally:
                session.rollback()
    except SQLAlchemyError as exc:
        return _fail("status", f"cannot read {db}: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
    pid = agent_running(db.parent)
    document.update(
        {
            "agent": {"running": pid is not None, "pid": pid},
            "link": agent_state.get("link", Link.UNKNOWN.value),
            "link_since": agent_state.get("link_since"),
            "last_error": agent_state.get("last_error"),
            "problem": problem_of(agent_state.get("last_error")),
            "failed_cycles": agent_state.get("failed_cycles", 0),
            "last_cycle": agent_state.get("last_cycle"),
            "next_attempt": agent_state.get("next_attempt"),
            "last_push": agent_state.get("last_push"),
            "last_pull": agent_state.get("last_pull"),
            "pull_progress": agent_state.get("pull_progress"),
            "queue": queue,
            "unsynced": queue["ready"] + queue["in_flight"] + queue["quarantined"],
            "quarantined_count": len(held),
            "quarantined": held,
            "sync_journal": sync_journal,
            "exported": exported,
            "shift": shift_notices.shift_section(agent_state),
        }
    )
    _emit(document)
    return EXIT_OK

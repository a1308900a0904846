"""The fleet view and support on request: each till reports into its own ``POS Appliance
Terminal`` record in ERPNext, over the link it already has (so tills behind NAT report too).

After a sync cycle whose pull ERPNext answered (every ``pull_interval``, 60 s by default; a pull
failing on ERPNext's side included, so such a till says why) the agent reads its
record (one GET) and writes (one PUT) only what changed: release, health and the names of the
failing checks, link, unsent and quarantined documents with their reasons, last pull, free disk
(in 100 MiB steps, so a growing journal does not write every minute) and the vault's state.
``last_seen`` and the last pull's time are refreshed with any change and at least every
``heartbeat`` (10 min): a list sorted by them shows the tills that went quiet. The store's
integrity check, the one slow part of the health report, runs hourly.

When support ticks ``support_bundle_requested`` on the record, the same visit builds a support
bundle (``appliance support-bundle`` in a child process, redacted as always), attaches it to
the record as a private File (``upload_file``), and clears the tick in the PUT. A bundle that
fails leaves the tick set: the next visit tries again, and the journal says why.

Never raises into the cycle: a refused report (no record, no write permission) is said once in
the journal and tried again next time. Times are written in the site's time zone, as Frappe
stores Datetime fields.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session, sessionmaker

from appliance import __version__, paths
from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.schema import (
    REPORT_FIELDS,
    SUPPORT_AT,
    SUPPORT_FILE,
    SUPPORT_REQUEST,
    TERMINAL_DOCTYPE,
)
from appliance.agent.server_mode import store_time_zone
from appliance.support.commands import default_bundle_name
from appliance.support.health import HealthOptions, run_health
from appliance.support.redact import redact_personal
from appliance.support.vault import vault_state

log = logging.getLogger(__name__)

HEARTBEAT = 600.0  # seconds: last_seen is refreshed at least this often
DISK_STEP_MB = 100
# `appliance db check` reads the whole store (2 s for 5,000 sales on the test machine): hourly,
# its last verdict reported in between.
DB_CHECK_EVERY = 3600.0
BUNDLE_TIMEOUT = 300.0  # the child process building a support bundle is killed after this
TEXT_LIMIT = 1000  # a Small Text cell IT reads in a list, not a log
DATA_LIMIT = 140  # Frappe's Data column
DATETIME = "%Y-%m-%d %H:%M:%S"
F = REPORT_FIELDS
# Moves with every pull: written with any other change and the heartbeat, never on its own.
RIDE_ALONG = (F.last_pull,)


@dataclass
class FleetVisit:
    """What one visit did, for tests and the journal."""

    sent: dict[str, Any] = field(default_factory=dict)  # the PUT's body ({}: nothing written)
    bundle: str | None = None  # the attached File's url
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For ``sync --once``: what was written to the record (field names), the bundle."""
        return {"reported": sorted(self.sent), "bundle": self.bundle, "problem": self.problem}


@dataclass
class FleetReporter:
    terminal_id: str
    config: Path | None = None
    heartbeat: float = HEARTBEAT
    bundle_timeout: float = BUNDLE_TIMEOUT
    db_check_every: float = DB_CHECK_EVERY
    _said: set[str] = field(default_factory=set)
    _quiet_until: float = 0.0
    _next_db_check: float = 0.0
    _bundle_after: float = 0.0
    _db_check: Mapping[str, Any] | None = None

    def visit(
        self,
        client: ERPNextClient,
        read: sessionmaker[Session],
        keep_going: Callable[[], bool] = lambda: True,
    ) -> FleetVisit:
        """Read the record, report what changed, answer a support request. Never raises."""
        try:
            return self._visit(client, read, keep_going)
        except ERPNextError as exc:
            return self._problem(f"{TERMINAL_DOCTYPE} {self.terminal_id}: {exc}")
        except Exception as exc:  # a bug here must not stop the sales from syncing
            log.exception("fleet report failed")
            return self._problem(f"fleet report failed: {type(exc).__name__}: {exc}")

    def _problem(self, text: str) -> FleetVisit:
        if text not in self._said:  # once per distinct problem, not every minute
            self._said.add(text)
            log.warning("fleet view not reported: %s", text)
        return FleetVisit(problem=text)

    def _visit(
        self, client: ERPNextClient, read: sessionmaker[Session], keep_going: Callable[[], bool]
    ) -> FleetVisit:
        if time.monotonic() < self._quiet_until:
            return FleetVisit()
        record = client.get_doc(TERMINAL_DOCTYPE, self.terminal_id)
        if record is None:
            return self._problem(
                f"ERPNext has no {TERMINAL_DOCTYPE} {self.terminal_id!r}: IT registers the till "
                "there (docs/operations.md)"
            )
        zone = _site_zone(read)
        now = datetime.now(UTC)
        report = self.report(zone)
        changes = {
            k: v
            for k, v in report.items()
            if k not in RIDE_ALONG and not _same(k, record.get(k), v)
        }
        visit = FleetVisit()
        if _checked(record.get(SUPPORT_REQUEST)) and time.monotonic() >= self._bundle_after:
            try:
                made = self._bundle(client, keep_going)
            except (OSError, subprocess.SubprocessError, RuntimeError, ERPNextError) as exc:
                # Tried again after the heartbeat, not every minute (a bundle takes a while);
                # support reads why in the record.
                self._bundle_after = time.monotonic() + self.heartbeat
                log.warning("support bundle requested in ERPNext, not attached: %s", exc)
                visit.problem = f"support bundle: {exc}"
                changes[SUPPORT_FILE] = _data(f"not made ({_at(now, zone)}): {exc}")
            else:
                visit.bundle = str(made.get("file_url") or made.get("name"))
                log.info("support bundle attached to %s as %s", self.terminal_id, visit.bundle)
                changes.update(
                    {
                        SUPPORT_REQUEST: 0,
                        SUPPORT_FILE: _data(visit.bundle),
                        SUPPORT_AT: _at(now, zone),
                    }
                )
        seen = _parse(record.get(F.last_seen), zone)
        if not changes and seen is not None and (now - seen).total_seconds() < self.heartbeat:
            return visit
        changes[F.last_seen] = _at(now, zone)
        changes.update({k: report[k] for k in RIDE_ALONG})
        saved = client.update(TERMINAL_DOCTYPE, self.terminal_id, changes)
        visit.sent = changes
        if not saved.get(F.last_seen):
            # Frappe drops fields the doctype lacks without a word: an older setup. Said once,
            # and not rewritten every cycle until the heartbeat comes round.
            self._quiet_until = time.monotonic() + self.heartbeat
            return self._problem(
                f"{TERMINAL_DOCTYPE} has no fleet-view fields ({F.last_seen}): run `appliance "
                "erpnext setup` on the site"
            )
        self._said.clear()  # it works again: a later problem is worth saying
        return visit

    # -- what the till reports -------------------------------------------------------------------
    def report(self, zone: ZoneInfo | None) -> dict[str, Any]:
        due = time.monotonic() >= self._next_db_check
        health = run_health(HealthOptions(config=self.config, database=due))
        checks: dict[str, Mapping[str, Any]] = dict(health["checks"])
        if due:
            self._next_db_check = time.monotonic() + self.db_check_every
            self._db_check = checks.get("database")
        elif self._db_check is not None:
            checks["database"] = self._db_check
        healthy = all(c.get("ok") for c in checks.values())
        sync, queue, disk = checks.get("sync", {}), checks.get("queue", {}), checks.get("disk", {})
        failing = [f"{name}: {c.get('status')}" for name, c in checks.items() if not c.get("ok")]
        pulled = _parse_iso(sync.get("last_pull_at"))
        free = disk.get("free_mb")
        return {
            F.release: __version__,
            F.healthy: int(healthy),
            F.problems: _text("\n".join(failing)),
            F.link: _data(str(sync.get("link") or "unknown")),
            F.unsent: int(queue.get("unsent") or 0),
            F.quarantined: int(queue.get("quarantined") or 0),
            F.quarantine_reasons: _text("\n".join(queue.get("reasons") or [])),
            F.last_pull: _at(pulled, zone) if pulled else None,
            F.disk_free_mb: free // DISK_STEP_MB * DISK_STEP_MB if isinstance(free, int) else None,
            F.vault: _data(vault_state(paths.data_dir())),
        }

    # -- support on request ----------------------------------------------------------------------
    def _bundle(self, client: ERPNextClient, keep_going: Callable[[], bool]) -> dict[str, Any]:
        # A directory of its own (0700; the unit's PrivateTmp): the data directory's support/
        # may be root's, made by a bundle taken over SSH.
        with tempfile.TemporaryDirectory(prefix="appliance-support-") as work:
            return self._bundle_in(Path(work), client, keep_going)

    def _bundle_in(
        self, work: Path, client: ERPNextClient, keep_going: Callable[[], bool]
    ) -> dict[str, Any]:
        out = work / default_bundle_name(self.config)
        command = [sys.executable, "-m", "appliance.cli", "support-bundle", "--out", str(out)]
        if self.config is not None:
            command += ["--config", str(self.config)]
        # A child process: a part that hangs is killed with it, and the agent's main loop keeps
        # pinging the watchdog (``keep_going``) while it works.
        child = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + self.bundle_timeout
        while child.poll() is None:
            if not keep_going() or time.monotonic() > deadline:
                child.kill()
                child.wait()
                raise RuntimeError("building the bundle was stopped (timeout or agent stopping)")
            time.sleep(0.2)
        if child.returncode != 0:
            why = (child.stderr.read() if child.stderr else "").strip().splitlines()
            raise RuntimeError(f"appliance support-bundle exited {child.returncode}: {why[:1]}")
        # Removed with its directory either way: ERPNext holds it now, or the next visit makes
        # a fresh one.
        return client.upload_file(TERMINAL_DOCTYPE, self.terminal_id, out.name, out.read_bytes())


def reporter_for(terminal_id: str, config: Path | None) -> FleetReporter | None:
    """The agent's reporter; ``APPLIANCE_FLEET_REPORT=0`` turns the fleet view off."""
    if os.environ.get("APPLIANCE_FLEET_REPORT", "1") == "0":
        return None
    return FleetReporter(terminal_id, config)


# -- values as Frappe stores them --------------------------------------------------------------
def _site_zone(read: sessionmaker[Session]) -> ZoneInfo | None:
    name = store_time_zone(read)
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _at(moment: datetime, zone: ZoneInfo | None) -> str:
    local = moment.astimezone(zone) if zone else moment.astimezone()
    return local.strftime(DATETIME)


def _parse(value: Any, zone: ZoneInfo | None) -> datetime | None:
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(str(value)).replace(microsecond=0)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=zone) if zone else naive.astimezone()


def _parse_iso(value: Any) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _text(text: str) -> str:
    # ERPNext's messages may quote a customer's e-mail or phone: not for a list every IT user
    # reads.
    text = redact_personal(text)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "..."


def _data(text: str) -> str:
    """A Data field holds 140 characters (varchar(140)); a longer value is refused by the site."""
    return text if len(text) <= DATA_LIMIT else text[: DATA_LIMIT - 3] + "..."


def _checked(value: Any) -> bool:
    try:
        return int(value or 0) == 1
    except (TypeError, ValueError):
        return False


def _same(fieldname: str, current: Any, wanted: Any) -> bool:
    if fieldname in (F.last_pull, F.last_seen):
        return _parse(current, None) == _parse(wanted, None)
    if isinstance(wanted, int):
        try:
            return int(current or 0) == wanted
        except (TypeError, ValueError):
            return False
    return str(current or "") == str(wanted or "")

"""``appliance agent``: the sync service, for systemd ``Type=notify``.

Start-up: load the config and open (or migrate) the store, take the agent lock, send
``READY=1``, put back whatever a crash left IN_FLIGHT (:meth:`Syncer.recover`), then cycles:

- **push** everything sendable, every cycle (``interval``, 10 s by default);
- **pull** masters when ``pull_interval`` has passed (and always in the first cycle);
- wait: ``interval`` after a good cycle; after link trouble (no answer, 5xx, timeouts) the
  reports' ``retry_after`` or an exponential back-off with jitter over consecutive failures,
  whichever is longer; after a STOP (401/403, TLS, a missing custom field, no secret)
  ``stop_retry`` (5 minutes): the agent stays up, says so in ``STATUS=`` and in the store, and
  tries again slowly, never hammering ERPNext with a wrong key.

Waits are sliced (0.2 s), so SIGTERM/SIGINT stop an idle agent at once; during a cycle the agent
stops after the current push batch or pull page (each settled in the store first). A SIGKILL at
any point is safe too: that is what :meth:`Syncer.recover` and the lookup by offline id are for.

systemd integration goes through systemd-python, imported lazily: ``READY=1``, ``STATUS=`` lines a
person can read ("pushed 12, 0 quarantined, 0 waiting, last pull 10:42, link up"), ``WATCHDOG=1``
from the main loop and from the push/pull progress callbacks (only when ``WATCHDOG_USEC`` is set)
and ``STOPPING=1``. With no ``NOTIFY_SOCKET`` nothing is sent. Logs go to the journal with
structured fields (OFFLINE_ID, DOCTYPE, ERPNEXT_NAME) under systemd, else to stderr.

After each pull ERPNext answered (completed, or refused with an error of its own) the
terminal's fleet-view record in ERPNext is brought up to date and
a support bundle asked for there is attached (:mod:`appliance.agent.fleet`).

The link state, last push/pull, counts and last error go to ``sync_state`` (see
:mod:`appliance.store.sync_state`) for ``appliance status`` and the counter's status bar.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.agent.pull import Puller, PullReport
from appliance.agent.push import Backoff, Pusher, PushReport
from appliance.config import ERPNextConfig
from appliance.scrub import ScrubFilter, scrub_optional
from appliance.store import outbox
from appliance.store import sync_state as state
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.sync_state import Link

if TYPE_CHECKING:
    from appliance.agent.fleet import FleetReporter, FleetVisit

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 10.0
DEFAULT_PULL_INTERVAL = 60.0
STOP_RETRY = 300.0  # an auth or setup failure is retried this slowly
MIN_DELAY = 0.5  # never loop faster than this, whatever a report says
SLICE = 0.2  # sleep granularity: how fast SIGTERM is noticed while idle
LOCK_FILE = "agent.lock"
SYSLOG_IDENTIFIER = "appliance-agent"


# -- systemd notification ------------------------------------------------------------------------
class Notifier:
    """sd_notify through ``systemd.daemon.notify``; silent when ``NOTIFY_SOCKET`` is unset."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.enabled = bool(env.get("NOTIFY_SOCKET"))
        self.watchdog_every: float | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        for_us = not pid or (pid.isdigit() and int(pid) == os.getpid())
        if self.enabled and usec.isdigit() and int(usec) > 0 and for_us:
            # systemd's advice is half the timeout; a quarter leaves room for a slow step.
            self.watchdog_every = int(usec) / 1e6 / 4
        self._last_ping = 0.0
        self._last_status: str | None = None
        self._notify: Callable[[str], Any] | None = None

    def _send(self, message: str) -> None:
        if not self.enabled:
            return
        if self._notify is None:
            try:
                from systemd import daemon  # noqa: PLC0415 - only under systemd
            except ImportError:
                log.warning("NOTIFY_SOCKET is set but systemd-python is missing: not notifying")
                self.enabled = False
                return
            self._notify = daemon.notify
        try:
            self._notify(message)
        except OSError as exc:  # the manager went away: not worth dying for
            log.warning("sd_notify failed: %s", exc)

    def ready(self, status: str) -> None:
        self._last_status = status
        self._send(f"READY=1\nSTATUS={status}")

    def status(self, text: str) -> None:
        if text != self._last_status:
            self._last_status = text
            self._send(f"STATUS={text}")

    def watchdog(self) -> None:
        if self.watchdog_every is None:
            return
        now = time.monotonic()
        if now - self._last_ping >= self.watchdog_every:
            self._last_ping = now
            self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1\nSTATUS=stopping")


# -- logging -------------------------------------------------------------------------------------
def under_systemd(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("JOURNAL_STREAM") or env.get("INVOCATION_ID"))


def setup_logging(verbose: bool = False, env: Mapping[str, str] | None = None) -> logging.Handler:
    """Journal (structured fields kept) under systemd, else plain lines on stderr."""
    handler: logging.Handler | None = None
    if under_systemd(env):
        try:
            from systemd.journal import JournalHandler  # noqa: PLC0415 - only under systemd
        except ImportError:
            handler = None
        else:
            handler = JournalHandler(SYSLOG_IDENTIFIER=SYSLOG_IDENTIFIER)
            handler.setFormatter(logging.Formatter("%(message)s"))
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    handler.addFilter(ScrubFilter())  # no credential reaches the journal or stderr
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # urllib3 logs every retry and connection at DEBUG/WARNING; our own lines say what matters.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler


# -- one process at a time -----------------------------------------------------------------------
class AlreadyRunningError(RuntimeError):
    pass


@contextlib.contextmanager
def agent_lock(data_dir: Path, wait: float = 2.0) -> Iterator[None]:
    """Only one pusher per store: the agent and ``appliance sync --once`` take this lock.

    Two pushers could each re-check and send the same document; the lock is released by the
    kernel when the process dies, even by SIGKILL.
    """
    path = data_dir / LOCK_FILE
    fh: IO[str] = path.open("a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # `appliance status` peeks with a shared lock for a moment: wait that out.
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "?"
                    raise AlreadyRunningError(
                        f"another agent or `appliance sync` holds {path} (pid {holder})"
                    ) from None
                time.sleep(0.05)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        fh.close()


def agent_running(data_dir: Path) -> int | None:
    """The pid holding the agent lock, or None when no agent (or `sync --once`) runs."""
    path = data_dir / LOCK_FILE
    try:
        fh = path.open("r", encoding="utf-8")
    except OSError:
        return None
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = fh.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return None


# -- one cycle -----------------------------------------------------------------------------------
@dataclass
class CycleResult:
    link: Link
    delay: float  # how long to wait before the next cycle
    push: PushReport | None = None
    pull: PullReport | None = None
    error: str | None = None
    interrupted: bool = False
    # What ERPNext says about this till's shifts (appliance.agent.shift_notices), if anything.
    shift_problem: dict[str, Any] | None = None
    # ERPNext answered this cycle's pull, all of it or with an error of its own (not a link
    # down): the fleet view is reported then, so a till whose pull fails on ERPNext's side at
    # every cycle says why instead of looking quiet.
    answered: bool = False

    @property
    def stopped(self) -> bool:
        return self.link is Link.STOPPED

    def as_dict(self) -> dict[str, Any]:
        return {
            "link": self.link.value,
            "error": self.error,
            "push": self.push.as_dict() if self.push else None,
            "pull": self.pull.as_dict() if self.pull else None,
            "next_attempt_in": round(self.delay, 1),
            "interrupted": self.interrupted,
            "shift_problem": self.shift_problem,
        }


@dataclass
class Totals:
    """Counts since this process started, for ``STATUS=``."""

    pushed: int = 0
    quarantined: int = 0
    pulled: int = 0
    pulls: int = 0
    last_pull: datetime | None = None


class Syncer:
    """Push + pull against ERPNext over one store, recording the outcome in ``sync_state``."""

    def __init__(
        self,
        erpnext: ERPNextConfig,
        db_path: Path,
        *,
        interval: float = DEFAULT_INTERVAL,
        stop_retry: float = STOP_RETRY,
        backoff: Backoff | None = None,
        batch_size: int = 50,
        max_batches: int = 20,
        page_size: int | None = None,  # None: pages sized by bytes (pull.py)
        client_factory: Callable[[ERPNextConfig], ERPNextClient] = ERPNextClient.from_config,
        fleet: FleetReporter | None = None,
        store_credit_modes: tuple[str, ...] = (),
    ) -> None:
        self.erpnext = erpnext
        self.interval = interval
        self.stop_retry = stop_retry
        self.backoff = backoff or Backoff()
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.page_size = page_size
        self._client_factory = client_factory
        self._engine = create_db_engine(db_path)
        self.read: sessionmaker[Session] = make_session_factory(self._engine, read_only=True)
        self.write: sessionmaker[Session] = make_session_factory(self._engine)
        self._client: ERPNextClient | None = None
        self._pusher: Pusher | None = None
        self._puller: Puller | None = None
        self.failures = 0  # consecutive cycles with link trouble
        self.totals = Totals()
        self.fleet = fleet  # reports into the terminal's record after each pull answered
        self.store_credit_modes = store_credit_modes
        self.last_visit: FleetVisit | None = None

    def close(self) -> None:
        self._drop_client()
        self._engine.dispose()

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._pusher = self._puller = None

    def _workers(self) -> tuple[Pusher, Puller]:
        if self._pusher is None or self._puller is None:
            # Reads the secret each time: after an auth failure a fixed secret file is picked up.
            self._client = self._client_factory(self.erpnext)
            self._pusher = Pusher(
                self._client,
                self.read,
                self.write,
                batch_size=self.batch_size,
                backoff=self.backoff,
            )
            self._puller = Puller(
                self._client,
                self.read,
                self.write,
                page_size=self.page_size,
                pos_profile=self.erpnext.pos_profile,
                store_credit_modes=self.store_credit_modes,
            )
        return self._pusher, self._puller

    def recover(self) -> int:
        """IN_FLIGHT left by a crash -> READY (looked up by offline id before any resend)."""
        with unit_of_work(self.write) as uow:
            count = outbox.reset_in_flight(uow.session)
            uow.commit()
        if count:
            log.warning("%d outbox entries were in flight at start-up: re-checking them", count)
        return count

    def cycle(
        self,
        *,
        pull: bool = True,
        should_stop: Callable[[], bool] = lambda: False,
        progress: Callable[[str], None] = lambda text: None,
    ) -> CycleResult:
        """One push (+ pull), never raising: the result says what happened and when to retry."""
        try:
            result = self._cycle(pull, should_stop, progress)
        except Exception as exc:  # a bug or a store problem: log it, back off, keep serving
            log.exception("sync cycle failed")
            self.failures += 1
            # Whatever the failure left IN_FLIGHT would otherwise wait for the next restart.
            with contextlib.suppress(Exception):
                self.recover()
            result = CycleResult(
                state.link_from(self.read),
                max(MIN_DELAY, self.backoff.delay(self.failures)),
                error=f"{type(exc).__name__}: {exc}",
            )
        # Shown by `sync --once` and STATUS=, stored for `appliance status`: never a credential.
        result.error = scrub_optional(result.error)
        if self._pusher is not None and self._pusher.shift_watch is not None:
            with contextlib.suppress(Exception):  # the store is busy: the next cycle says it
                result.shift_problem = self._pusher.shift_watch.problem()
        self._record(result)
        if self.fleet is not None and self._client is not None and result.answered:
            # After the state is recorded, so the report says what this cycle did.
            self.last_visit = self.fleet.visit(self._client, self.read, lambda: not should_stop())
        return result

    def _cycle(
        self, pull: bool, should_stop: Callable[[], bool], progress: Callable[[str], None]
    ) -> CycleResult:
        try:
            pusher, puller = self._workers()
        except ERPNextError as exc:  # no secret, unreadable secret: a person must act
            return self._stopped(exc.message)

        batches = 0

        def after_batch(report: PushReport) -> bool:
            nonlocal batches
            batches += 1
            progress(f"pushing: {report.synced} synced so far")
            # A long backlog is pushed over several cycles so pulls are not starved.
            return batches < self.max_batches and not should_stop()

        # A closing ERPNext finished since the last cycle frees this till's next opening (16).
        pusher.follow_shift()
        push = pusher.push(on_batch=after_batch)
        self.totals.pushed += push.synced
        self.totals.quarantined += len(push.quarantined)
        if push.stopped:
            return self._stopped(push.stopped, push=push)
        if push.retry_after is not None:
            last = push.retrying[-1].message if push.retrying else None
            error = last or "ERPNext is unreachable"
            return self._link_down(error, push.retry_after, push=push)
        pusher.follow_shift()  # and what this push's closing became meanwhile
        if should_stop():
            return CycleResult(Link.UP, 0.0, push=push, interrupted=True)
        # More may be waiting: come straight back after the pull (if due).
        interval = 0.0 if batches >= self.max_batches else self.interval
        if not pull:
            self.failures = 0
            return CycleResult(Link.UP, interval, push=push)

        def after_page(doctype: str, report: PullReport) -> bool:
            progress(f"pulling {doctype}: {report.total} records applied so far")
            return not should_stop()

        try:
            pulled = puller.pull(on_page=after_page)
        except ERPNextError as exc:
            if exc.kind is ErrorKind.STOP:
                return self._stopped(exc.message, push=push)
            down = self._link_down(str(exc), 0.0, push=push)
            down.answered = exc.status is not None
            return down
        self.failures = 0
        self.totals.pulled += pulled.total
        if not pulled.complete:
            return CycleResult(Link.UP, 0.0, push=push, pull=pulled, interrupted=True)
        self.totals.last_pull = datetime.now().astimezone()
        return CycleResult(Link.UP, interval, push=push, pull=pulled, answered=True)

    def _stopped(self, message: str, push: PushReport | None = None) -> CycleResult:
        log.error("sync stopped (next try in %s): %s", _in(self.stop_retry), message)
        self._drop_client()
        return CycleResult(Link.STOPPED, self.stop_retry, push=push, error=message)

    def _link_down(
        self, message: str, retry_after: float, push: PushReport | None = None
    ) -> CycleResult:
        self.failures += 1
        delay = max(MIN_DELAY, retry_after, self.backoff.delay(self.failures))
        log.warning("ERPNext link down (%s); next try in %.1f s", message, delay)
        return CycleResult(Link.DOWN, delay, push=push, error=message)

    def _record(self, result: CycleResult) -> None:
        now = state.now_iso()
        values: dict[str, Any] = {
            "last_cycle": now,
            "next_attempt": state.iso_in(result.delay),
            "pid": os.getpid(),
        }
        values["link"] = result.link.value
        values["last_error"] = result.error
        # Across processes (`sync --once` is one cycle each): `appliance health` fails after
        # FAILING_CYCLES of these in a row, whatever the link says.
        values["failed_cycles"] = 0 if result.error is None else self._failed_cycles() + 1
        push = result.push
        if push is not None and push.retry_after is None and push.stopped is None:
            values["last_push"] = {
                "at": now,
                "created": len(push.created),
                "found": len(push.found),
                "quarantined": len(push.quarantined),
                "retrying": len(push.retrying),
                "mismatches": len(push.mismatches),
            }
        if result.pull is not None and result.pull.complete:
            self.totals.pulls += 1
            values["last_pull"] = {
                "at": now,
                "n": self.totals.pulls,
                "applied": result.pull.total,
                "pages": result.pull.pages,
                # Kept until the next complete pull: `appliance status` says it to support.
                "store_credit_overspent": result.pull.store_credit_overspent,
            }
        try:
            state.write_state(self.write, values)
        except Exception:  # the store is busy or broken: the next cycle tries again
            log.exception("could not record the sync state")

    def _failed_cycles(self) -> int:
        with self.read() as session:
            try:
                count = state.read_state(session).get("failed_cycles")
            finally:
                session.rollback()
        return count if isinstance(count, int) and count >= 0 else 0

    def status_line(self, result: CycleResult | None) -> str:
        """``pushed 12, 0 quarantined, 3 waiting, last pull 10:42, link up``."""
        with self.read() as session:
            try:
                depth = state.queue_depth(session)
            finally:
                session.rollback()
        waiting = depth["ready"] + depth["in_flight"]
        last = self.totals.last_pull
        parts = [
            f"pushed {self.totals.pushed}",
            f"{depth['quarantined']} quarantined",
            f"{waiting} waiting",
            f"last pull {last:%H:%M}" if last else "no pull yet",
        ]
        if result is None:
            parts.append("link unknown")
        elif result.link is Link.STOPPED:
            parts.append(f"STOPPED: {result.error} (retry in {_in(result.delay)})")
        elif result.link is Link.DOWN:
            parts.append(f"link DOWN, retry in {_in(result.delay)}: {result.error}")
        else:
            parts.append(f"link {result.link.value}")
        if result is not None and result.shift_problem:
            parts.append(str(result.shift_problem["short"]))
        return ", ".join(parts)


def _in(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


# -- the service loop ----------------------------------------------------------------------------
@dataclass
class AgentService:
    syncer: Syncer
    notifier: Notifier = field(default_factory=Notifier)
    pull_interval: float = DEFAULT_PULL_INTERVAL
    slice: float = SLICE
    max_cycles: int | None = None  # for tests
    _stop: threading.Event = field(default_factory=threading.Event)

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        if signum is not None and not self._stop.is_set():
            log.info("signal %d: stopping", signum)
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> int:
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            previous = {
                sig: signal.signal(sig, self.request_stop)
                for sig in (signal.SIGTERM, signal.SIGINT)
            }
        try:
            return self._run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run(self) -> int:
        syncer = self.syncer
        self.notifier.ready("started: re-checking the outbox")
        log.info("agent started (pid %d), ERPNext at %s", os.getpid(), syncer.erpnext.url)
        syncer.recover()
        next_pull = 0.0
        cycles = 0
        while not self.stopping:
            pull = time.monotonic() >= next_pull
            result = syncer.cycle(pull=pull, should_stop=self._should_stop, progress=self._progress)
            if result.pull is not None and result.pull.complete:
                next_pull = time.monotonic() + self.pull_interval
            if not result.interrupted:
                self.notifier.status(syncer.status_line(result))
            cycles += 1
            if self.max_cycles is not None and cycles >= self.max_cycles:
                break
            self._sleep(result.delay)
        self.notifier.stopping()
        log.info("agent stopped")
        return 0

    def _should_stop(self) -> bool:
        self.notifier.watchdog()
        return self.stopping

    def _progress(self, text: str) -> None:
        self.notifier.status(text)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + max(seconds, 0.0)
        while not self.stopping:
            self.notifier.watchdog()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(self.slice, left))

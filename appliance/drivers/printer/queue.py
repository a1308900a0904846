"""The print queue: a sale commit hands a document over and returns at once.

One worker thread prints jobs in order. A job that fails because the printer is offline stays
at the head of the queue and is retried when the printer comes back ONLINE (the supervisor
reconnects it); a job the printer rejects is marked FAILED and not retried. Recent jobs are
kept for reprint by title (a receipt number).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from appliance.drivers.errors import DeviceError, DeviceOfflineError
from appliance.drivers.interfaces import ReceiptPrinter
from appliance.drivers.printer.document import Document
from appliance.drivers.state import DeviceState, DeviceStatus

log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    WAITING = "waiting"  # the printer is offline; prints when it is back
    PRINTED = "printed"
    FAILED = "failed"


@dataclass(frozen=True)
class PrintJob:
    id: int
    key: str  # what a reprint asks for: the receipt number, "X report", ...
    document: Document
    state: JobState = JobState.QUEUED
    error: str = ""


class PrintQueue:
    def __init__(self, printer: ReceiptPrinter, *, keep: int = 50) -> None:
        self.printer = printer
        self._keep = keep
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._pending: deque[int] = deque()
        self._jobs: OrderedDict[int, PrintJob] = OrderedDict()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[PrintJob], None]] = []
        printer.status.subscribe(self._on_status)

    # -- the till's side: never blocks on the printer ------------------------------------------

    def submit(self, document: Document, key: str = "") -> PrintJob:
        with self._cond:
            job = PrintJob(next(self._ids), key or document.title, document)
            self._jobs[job.id] = job
            self._pending.append(job.id)
            self._trim()
            self._cond.notify_all()
            return job

    def reprint(self, key: str) -> PrintJob:
        """Queue the last document printed (or queued) under `key` again."""
        with self._cond:
            for job in reversed(self._jobs.values()):
                if job.key == key:
                    break
            else:
                raise KeyError(f"no recent print job {key!r}")
        return self.submit(job.document, key)

    def subscribe(self, listener: Callable[[PrintJob], None]) -> Callable[[], None]:
        """Call `listener` (on the queue's thread) with each job as it waits, prints or fails.

        The till tells its cashier from this: a receipt queued behind an unplugged printer is
        otherwise silent. Returns the unsubscribe function.
        """
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def job(self, job_id: int) -> PrintJob:
        with self._cond:
            return self._jobs[job_id]

    def jobs(self) -> list[PrintJob]:
        with self._cond:
            return list(self._jobs.values())

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once nothing is left to print (for tests and an orderly shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending or self._waiting(), timeout)

    # -- worker --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="print-queue", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> PrintQueue:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_status(self, status: DeviceStatus) -> None:
        with self._cond:
            self._cond.notify_all()

    def _waiting(self) -> bool:
        return bool(self._pending) and self._jobs[self._pending[0]].state is JobState.WAITING

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(self._ready)
                if self._stopping:
                    return
                job = self._jobs[self._pending[0]]
            try:
                self.printer.print_document(job.document)
            except DeviceOfflineError as exc:
                self._update(job, JobState.WAITING, str(exc), done=False)
            except DeviceError as exc:
                log.error("print job %s failed: %s", job.key, exc)
                self._update(job, JobState.FAILED, str(exc), done=True)
            else:
                self._update(job, JobState.PRINTED, "", done=True)

    def _ready(self) -> bool:
        if self._stopping:
            return True
        if not self._pending:
            return False
        head = self._jobs[self._pending[0]]
        # A waiting job goes again only once the supervisor has the printer back.
        return head.state is not JobState.WAITING or (
            self.printer.status.state is DeviceState.ONLINE
        )

    def _update(self, job: PrintJob, state: JobState, error: str, *, done: bool) -> None:
        changed = replace(job, state=state, error=error)
        with self._cond:
            self._jobs[job.id] = changed
            if done:
                self._pending.popleft()
            self._cond.notify_all()
            listeners = list(self._listeners)
        if changed.state is not job.state:  # a job retried while still offline says it once
            for listener in listeners:
                try:
                    listener(changed)
                except Exception:  # a listener's bug must not stop the printing
                    log.exception("print job listener failed")

    def _trim(self) -> None:
        pending = set(self._pending)
        while len(self._jobs) > self._keep:
            oldest = next(iter(self._jobs))
            if oldest in pending:
                break
            del self._jobs[oldest]

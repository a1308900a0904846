"""Whether a sale is in progress on the till, as a small file in the data directory.

Rollouts restart the till, so they must wait until nobody is in the middle of a sale. Only the
till knows, and it runs as another user in another process: it writes ``till-activity.json``
when a cart starts and when it is finished (paid and committed, voided, or parked), and
``appliance busy`` / ``appliance health`` read it. The file names the till's pid: a till that
died mid-sale lost its cart anyway, so a file left behind by a dead process means idle.

Written atomically (temp file and rename) but never fsynced: it is a hint for the next minutes,
not a record, and it must not cost the sale path a disk flush. The till writes it from a thread
of its own (``background=True``): on ext4 a rename over the old file starts writing the new one
out, and on a busy disk that took up to 20-47 ms (p99 8-14 ms) on the screen's thread, in the
middle of a scan. A write that fails (a full disk) is logged; it never reaches the cashier.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

FILENAME = "till-activity.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Activity:
    busy: bool
    since: str | None = None  # when the current cart got its first line (ISO 8601, UTC)
    lines: int = 0
    paid: str = "0"  # partial payments already taken on the open cart
    pid: int | None = None
    stale: bool = False  # the file names a process that is gone

    def as_dict(self) -> dict[str, Any]:
        return {
            "busy": self.busy,
            "since": self.since,
            "lines": self.lines,
            "paid": self.paid,
            "pid": self.pid,
            "stale": self.stale,
        }


class TillActivity:
    """The till's side: call :meth:`update` whenever the open cart changes.

    It writes only when busy/idle flips or the counts change, so calling it on every scan is
    cheap; :meth:`idle` when the sale is committed, voided or parked, and at shutdown.
    """

    def __init__(self, data_dir: Path, *, pid: int | None = None, background: bool = False) -> None:
        self.path = data_dir / FILENAME
        self.pid = os.getpid() if pid is None else pid
        self._last: tuple[bool, int, str] | None = None
        self._since: str | None = None
        # One thread, so the writes land in the order the cart changed: the last one wins.
        self._writer = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="till-activity")
            if background
            else None
        )

    def update(self, lines: int, paid: Decimal = Decimal(0)) -> None:
        busy = lines > 0 or paid != 0
        key = (busy, lines, str(paid))
        if key == self._last:
            return
        if busy and self._since is None:
            self._since = datetime.now(UTC).isoformat(timespec="seconds")
        if not busy:
            self._since = None
        self._write(
            {"busy": busy, "since": self._since, "lines": lines, "paid": str(paid), "pid": self.pid}
        )
        self._last = key

    def idle(self) -> None:
        self.update(0)

    def flush(self) -> None:
        """Wait until what was said so far is in the file."""
        if self._writer is not None:
            self._writer.submit(lambda: None).result()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)

    def _write(self, document: dict[str, Any]) -> None:
        if self._writer is None:
            self._write_now(document)
        else:
            self._writer.submit(self._write_now, document)

    def _write_now(self, document: dict[str, Any]) -> None:
        tmp = self.path.with_name(f".{FILENAME}.{self.pid}")
        try:
            tmp.write_text(json.dumps(document), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            if self._writer is None:
                raise
            log.warning("till activity not written (%s): rollouts may not see this sale", exc)


def read_activity(data_dir: Path) -> Activity:
    """What the till last said; idle when it never said anything or its process is gone."""
    try:
        raw = json.loads((data_dir / FILENAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Activity(busy=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{data_dir / FILENAME}: unreadable: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{data_dir / FILENAME}: not a JSON object")
    pid = raw.get("pid") if isinstance(raw.get("pid"), int) else None
    stale = pid is None or not _alive(pid)
    return Activity(
        busy=bool(raw.get("busy")) and not stale,
        since=raw.get("since"),
        lines=int(raw.get("lines") or 0),
        paid=str(raw.get("paid") or "0"),
        pid=pid,
        stale=stale,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # the till runs as another user: it exists
    return True

"""Bounds on one HTTP exchange with ERPNext: what a stock deployment accepts, and what we accept.

- **Request line**: gunicorn as a stock ERPNext runs it refuses a request line over 4,094 bytes
  (../shared/erpnext/README.md, "Stock deployments"); :func:`request_line_length` lets the client
  keep every request under :data:`REQUEST_LINE_BUDGET` (big filters go in a POST body).
- **Deadline**: ``requests``' timeout is per socket read, so a server sending a byte every few
  seconds holds a request forever. :func:`deadline` arms a timer that shuts the request's socket
  down when the whole exchange (connect, send, headers, body) overruns; the blocked read then
  fails and :attr:`Watch.expired` says why.
- **Answer size**: :func:`read_capped` reads at most ``cap`` bytes (after decompression: a gzip
  bomb is caught too) instead of holding whatever the server sends in memory.
- **Pages, not JSON**: :func:`page_summary` turns an HTML error page (gunicorn's 400, nginx's
  413/502/504) into its title and first line of text, for a message a person can act on.
"""

from __future__ import annotations

import contextlib
import heapq
import html
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# gunicorn's default limit_request_line; nginx allows 8 KB, so gunicorn's is the one to meet.
REQUEST_LINE_LIMIT = 4094
# What we allow ourselves: room left for a proxy that rewrites the path (a /erp prefix ...).
REQUEST_LINE_BUDGET = 3900
CHUNK = 64 * 1024

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(rb"<(head|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(rb"<[^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


def request_line_length(method: str, path: str, params: dict[str, Any] | None) -> int:
    """Bytes of ``METHOD /path?query HTTP/1.1`` as ``requests`` would send it."""
    query = urlencode(params or {}, doseq=True)
    target = path + ("?" + query if query else "")
    return len(f"{method} {target} HTTP/1.1".encode())


# -- the deadline --------------------------------------------------------------------------------
class Watch:
    """The connection of the request in progress on this thread, for its timer to cut."""

    def __init__(self) -> None:
        self.connection: HTTPConnection | None = None
        self.expired = False
        self._lock = threading.Lock()

    def cut(self) -> None:
        with self._lock:
            self.expired = True
            sock = getattr(self.connection, "sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


_active = threading.local()


def _watch_this(connection: HTTPConnection) -> None:
    watch = getattr(_active, "watch", None)
    if isinstance(watch, Watch):
        watch.connection = connection


class _WatchedConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_this(self)
        super().request(*args, **kwargs)


class _WatchedTLSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_this(self)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedTLSConnection


class BoundedAdapter(HTTPAdapter):
    """An adapter whose connections a :func:`deadline` can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


class _Watchdog:
    """One thread cutting every overdue request of the process. A ``threading.Timer`` per
    request started (and tore down) a thread for each one: ~1 ms of a push's few per
    document, more on a busy machine."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Watch]] = []
        self._pending: set[int] = set()
        self._seq = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, watch: Watch) -> int:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._due, (time.monotonic() + seconds, self._seq, watch))
            self._pending.add(self._seq)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="deadline", daemon=True)
                self._thread.start()
            self._cond.notify()
            return self._seq

    def disarm(self, seq: int) -> None:
        with self._cond:
            self._pending.discard(seq)

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._due and self._due[0][1] not in self._pending:
                    heapq.heappop(self._due)  # its request ended in time
                if not self._due:
                    self._cond.wait()
                    continue
                due, seq, watch = self._due[0]
                left = due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._due)
                self._pending.discard(seq)
                watch.cut()


_watchdog = _Watchdog()
# A forked child has no watchdog thread (nor the parent's requests): it starts its own.
os.register_at_fork(after_in_child=lambda: globals().update(_watchdog=_Watchdog()))


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Watch]:
    """Cut this thread's request if it is not over within ``seconds``."""
    watch = Watch()
    _active.watch = watch
    seq = _watchdog.arm(seconds, watch)
    try:
        yield watch
    finally:
        _watchdog.disarm(seq)
        _active.watch = None


# -- the answer ----------------------------------------------------------------------------------
class AnswerTooLargeError(Exception):
    def __init__(self, cap: int) -> None:
        super().__init__(f"the server sent more than {cap / (1024 * 1024):g} MiB")
        self.cap = cap


def read_capped(resp: requests.Response, cap: int) -> bytes:
    """The whole body of a streamed response, or :class:`AnswerTooLargeError` past ``cap``."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise AnswerTooLargeError(cap)
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(CHUNK):
        size += len(chunk)
        if size > cap:
            raise AnswerTooLargeError(cap)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(content: bytes) -> Any:
    """JSON, or ValueError saying what is wrong (a 100,000-deep nesting is not a crash)."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(content.rstrip()) or exc.msg.startswith("Unterminated"):
            raise ValueError(f"JSON cut short after {len(content)} bytes") from None
        raise ValueError(f"not JSON ({exc.msg} at byte {exc.pos})") from None


def page_summary(content: bytes, limit: int = 200) -> str:
    """An HTML page's title and first line of text (``Bad Request: Request Line is too large
    (8192 > 4094)``), or a plain answer's first line; empty when there is no text at all."""
    title_match = _TITLE.search(content)
    title = _text(title_match.group(1)) if title_match else ""
    body = _TAG.sub(b"\n", _HIDDEN.sub(b"\n", content))
    lines = [line for line in (_text(raw) for raw in body.splitlines()) if line]
    first = next((line for line in lines if line != title), "")
    summary = f"{title}: {first}" if title and first else title or first
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def _text(raw: bytes) -> str:
    text = html.unescape(raw.decode("utf-8", "replace"))
    printable = "".join(c if c.isprintable() else " " for c in text)
    return _SPACE.sub(" ", printable).strip()

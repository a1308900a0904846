"""Hostile or broken answers from a real local HTTP server: each ends `appliance sync --once` with
a named error (stdout JSON, one line on stderr, ``status``) and a non-zero exit, in bounded time."""

from __future__ import annotations

import json
import socketserver
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.cli import main
from fakeerp import FakeERPNext
from tests.agent.conftest import write_config

GUNICORN_400 = (
    b"<html>\n  <head>\n    <title>Bad Request</title>\n  </head>\n  <body>\n"
    b"    <h1><p>Bad Request</p></h1>\n    Request Line is too large (8192 &gt; 4094)\n"
    b"  </body>\n</html>\n"
)
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _answer(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Hostile(socketserver.StreamRequestHandler):
    behave: Callable[[_Hostile], None]

    def handle(self) -> None:
        length = 0
        while (line := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        self.rfile.read(length)
        try:
            type(self).behave(self)
        except OSError:
            return  # the client hung up: what a cut or capped read does


def _drip(h: _Hostile) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(120):  # a byte every half second: no single read ever times out
        h.wfile.write(b"a")
        h.wfile.flush()
        time.sleep(0.5)


def _huge(h: _Hostile) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    h.wfile.write(b'{"message": [')
    row = b'"' + b"x" * 65_000 + b'",'
    for _ in range(400 * 1024 * 1024 // len(row)):  # 400 MB, unless the client stops reading
        h.wfile.write(row)


BEHAVIOURS: dict[str, Callable[[_Hostile], object]] = {
    "gunicorn 400": lambda h: h.wfile.write(_answer("400 Bad Request", GUNICORN_400, "text/html")),
    "nginx 502": lambda h: h.wfile.write(_answer("502 Bad Gateway", NGINX_502, "text/html")),
    "html 200": lambda h: h.wfile.write(
        _answer("200 OK", b"<!DOCTYPE html><html><head><title>Login</title></head></html>")
    ),
    "truncated": lambda h: h.wfile.write(_answer("200 OK", b'{"message": {"frappe": "15.7')),
    "deep": lambda h: h.wfile.write(_answer("200 OK", b"[" * 100_000 + b"]" * 100_000)),
    "drip": _drip,
    "huge": _huge,
}
# What each must be called (start, end), in stderr's one line and `status`, and the exit code.
EXPECTED = {
    "gunicorn 400": (
        3,
        "request too large: the server refused it",
        "(Bad Request: Request Line is too large (8192 > 4094))",
    ),
    "nginx 502": (1, "not JSON: HTTP 502 answered a page", "(502 Bad Gateway: nginx/1.22.1)"),
    "html 200": (1, "not JSON: HTTP 200 answered a page", "(Login)"),
    "truncated": (1, "bad JSON: GET /api/", "(HTTP 200): JSON cut short after 28 bytes"),
    "deep": (1, "bad JSON: GET /api/", "(HTTP 200): JSON nested too deeply"),
    "drip": (1, "too slow: no complete answer from {url} within 3 s", "([erpnext] deadline)"),
    "huge": (1, "answer too large: GET /api/", "more than 4 MiB ([erpnext] max_answer_mb)"),
}


@pytest.fixture
def hostile(
    db_path: Path, erp: FakeERPNext, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], str]]:
    """Start a server behaving so, and point the till's config at it: its URL."""
    servers: list[socketserver.ThreadingTCPServer] = []

    def start(mode: str) -> str:
        handler = type("H", (_Hostile,), {"behave": staticmethod(BEHAVIOURS[mode])})
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("APPLIANCE_CONFIG", str(_config(db_path.parent, erp, url)))
        return url

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _config(directory: Path, erp: FakeERPNext, url: str) -> Path:
    path = write_config(directory, erp)
    text = path.read_text(encoding="utf-8").replace(f'url = "{erp.url}"', f'url = "{url}"')
    text = text.replace("timeout = 5\n", "timeout = 2\ndeadline = 3\nmax_answer_mb = 4\n")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", list(BEHAVIOURS))
def test_a_hostile_answer_ends_sync_once_with_its_name(
    mode: str, hostile: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = hostile(mode)
    code, start, end = EXPECTED[mode]
    start = start.format(url=url)
    began = time.monotonic()
    assert main(["sync", "--once"]) == code
    assert time.monotonic() - began < 20
    out, err = capsys.readouterr()
    message = json.loads(out)["error"]
    assert message.startswith(start) and message.endswith(end), message
    (line,) = err.strip().splitlines()
    assert line.endswith(message)
    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_error"] == message and status["failed_cycles"] == 1
    assert status["problem"] == start.split(":", 1)[0]


def test_a_slow_but_steady_answer_within_the_deadline_is_read(erp: FakeERPNext) -> None:
    erp.set_delay(1500)  # each request waits 1.5 s: under the 2 s read timeout and the deadline
    client = ERPNextClient(erp.url, erp.api_key, erp.api_secret, timeout=2, deadline=3)
    assert client.logged_user() == erp.user
    erp.set_delay(0)
    small = ERPNextClient(erp.url, erp.api_key, erp.api_secret, max_answer=200)
    with pytest.raises(ERPNextError) as caught:
        small.get_list("Item", fields=["*"], limit_page_length=5)
    assert caught.value.kind is ErrorKind.RETRY
    assert caught.value.message.startswith("answer too large: GET /api/resource/Item")


def test_sync_once_fails_when_its_cycle_broke_off(
    db_path: Path,
    erp: FakeERPNext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Not a link problem, the store: the cycle catches it, and `sync --once` still fails."""
    monkeypatch.setenv("APPLIANCE_CONFIG", str(write_config(db_path.parent, erp)))
    with sqlite3.connect(db_path) as conn:
        conn.execute("DROP TABLE item_prices")
    assert main(["sync", "--once"]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert "no such table: item_prices" in summary["error"]
    (line,) = err.strip().splitlines()
    assert line.startswith("sync: cycle failed: OperationalError")

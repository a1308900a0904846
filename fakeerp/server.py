"""The fake ERPNext over HTTP on 127.0.0.1, with fault switches for tests and the demo.

Routes (FACTS §1.1): ``GET|POST /api/resource/<DocType>``, ``GET|PUT /api/resource/<DocType>/
<name>`` (also under ``/api/v1``), and a few ``/api/method/...`` calls (``upload_file``:
:mod:`fakeerp.files`). Answers use the v1
envelopes (``{"data": ...}``, ``{"message": ...}``) and Frappe's error bodies.

Faults:
- ``drop_after_commit(n, doctype)``: the next ``n`` inserts commit, then the socket is closed
  without an answer (the client cannot know whether the document exists);
- ``delay_ms``: every request waits first (timeouts);
- ``fail_next(n, status)``: the next ``n`` requests answer ``status`` (500, 502, 503, 429 ...)
  without touching the site;
- ``reject(offline_id, message)``: inserting that document answers 417 with the message;
- ``forbid(doctype)``: reading that doctype answers 403 (a role the integration user lacks);
- ``break_listing(doctype, exception)``: listing that doctype answers 500 with that Python
  exception (a custom app's hook failing), until ``None``;
- ``hold_consolidation()`` / ``fail_consolidation(message)``: a POS Closing Entry answered
  ``Queued`` stays so, or its background consolidation ends ``Failed`` with that
  ``error_message`` (:mod:`fakeerp.closing`; the worker runs before each request).

Limits: like a stock production ERPNext (gunicorn's defaults, ../shared/erpnext/README.md "Stock
deployments"), a request line over 4,094 bytes answers 400 and more than 100 header fields or a
header line over 8,190 bytes answers 431, each with gunicorn's HTML page, before any routing: no
test passes with a request a real site refuses. ``limits=Limits(request_line=0)`` lifts one.
"""

from __future__ import annotations

import contextlib
import html
import json
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from fakeerp import errors, files, loyalty, v16
from fakeerp.errors import FrappeError, no_permission
from fakeerp.site import OFFLINE_ID, Doc, Site


@dataclass
class Faults:
    delay_ms: int = 0
    fail_next: int = 0
    fail_status: int = 500
    drop_after_commit: int = 0
    drop_doctype: str | None = None
    rejected: dict[str, str] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)  # doctypes the key's user may not read
    broken: dict[str, str] = field(default_factory=dict)  # doctype -> exception its listing raises


@dataclass(frozen=True)
class Limits:
    """gunicorn's stock ``limit_request_line``, ``limit_request_fields`` and
    ``limit_request_field_size`` (0: no limit)."""

    request_line: int = 4094
    fields: int = 100
    field_size: int = 8190


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    status: int  # 0: connection dropped without an answer


class FakeERPNext:
    """A fake ERPNext site served on 127.0.0.1 (port 0 picks a free one).

    ``with FakeERPNext(all_masters(DemoSize(...))) as erp: erp.url ...``
    """

    def __init__(
        self,
        masters: Iterable[Doc] = (),
        *,
        api_key: str = "agent-key",
        api_secret: str = "agent-secret",
        user: str = "pos-agent@example.com",
        port: int = 0,
        site: Site | None = None,
        limits: Limits | None = None,
        **site_options: Any,
    ) -> None:
        self.limits = limits or Limits()
        self.api_key = api_key
        self.api_secret = api_secret
        self.user = user
        self.site = site or Site(masters, users={api_key: (api_secret, user)}, **site_options)
        self.faults = Faults()
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> FakeERPNext:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-erpnext", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeERPNext:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake ERPNext is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- fault switches ------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self.faults.fail_next, self.faults.fail_status = count, status

    def drop_after_commit(self, count: int = 1, doctype: str | None = None) -> None:
        with self._lock:
            self.faults.drop_after_commit, self.faults.drop_doctype = count, doctype

    def set_delay(self, ms: int) -> None:
        with self._lock:
            self.faults.delay_ms = ms

    def reject(self, offline_id: str, message: str) -> None:
        with self._lock:
            self.faults.rejected[offline_id] = message

    def forbid(self, doctype: str) -> None:
        """Reading ``doctype`` answers 403, as for a user without the role (Deleted Document
        is System Manager only)."""
        with self._lock:
            self.faults.forbidden.add(doctype)

    def break_listing(self, doctype: str, exception: str | None) -> None:
        """Listing ``doctype`` answers 500 with this Python exception (None: it works again),
        as a site whose custom app hooks that listing and fails."""
        with self._lock:
            if exception is None:
                self.faults.broken.pop(doctype, None)
            else:
                self.faults.broken[doctype] = exception

    def hold_consolidation(self, hold: bool = True) -> None:
        """No background worker runs: a queued POS Closing Entry stays Queued."""
        with self.site.lock:
            self.site.consolidation.hold = hold

    def fail_consolidation(self, error_message: str | None) -> None:
        """Queued consolidations end Failed with this ``error_message`` (None: they succeed)."""
        with self.site.lock:
            self.site.consolidation.fail_with = error_message

    def set_scheduler(self, enabled: bool) -> None:
        """System Settings ``enable_scheduler``: off, a closing that would be queued is 417."""
        with self.site.lock:
            self.site.consolidation.scheduler = enabled

    def unreject(self, offline_id: str) -> None:
        with self._lock:
            self.faults.rejected.pop(offline_id, None)

    # -- what tests look at --------------------------------------------------------------------
    def posts(self, doctype: str | None = None) -> list[Logged]:
        with self._lock:
            return [
                e
                for e in self.log
                if e.method == "POST"
                and e.path.startswith("/api/resource/")
                and (doctype is None or e.path == f"/api/resource/{doctype}")
            ]

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.log.append(Logged(method, path, status))

    def _take_failure(self) -> int | None:
        with self._lock:
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                return self.faults.fail_status
            return None

    def _take_drop(self, doctype: str) -> bool:
        with self._lock:
            f = self.faults
            if f.drop_after_commit > 0 and f.drop_doctype in (None, doctype):
                f.drop_after_commit -= 1
                return True
            return False

    def _rejection(self, offline_id: Any) -> str | None:
        with self._lock:
            return self.faults.rejected.get(str(offline_id)) if offline_id else None


class _DroppedError(Exception):
    """Close the connection without answering."""


PERMISSION_MANAGER = "frappe.core.page.permission_manager.permission_manager"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeERPNext
    raw_requestline: bytes  # set by handle_one_request before parse_request
    protocol_version = "HTTP/1.1"
    server_version = "FakeFrappe/15"
    # Headers and body go out in two writes on a kept-alive connection: with Nagle's algorithm
    # the body waited for the client's delayed ACK, tens of ms per request (the bench's push
    # spent 2/3 of its time there). A real ERPNext behind nginx/gunicorn does not stall so.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests read FakeERPNext.log instead

    def parse_request(self) -> bool:
        # gunicorn checks its limits while reading the request, before the app sees it.
        limits = self.fake.limits
        line = self.raw_requestline.rstrip(b"\r\n")
        if limits.request_line and len(line) > limits.request_line:
            why = f"Request Line is too large ({len(line)} > {limits.request_line})"
            self._refuse(line, 400, "Bad Request", why)
            return False
        if not super().parse_request():
            return False
        too_many = limits.fields and len(self.headers) > limits.fields
        longest = max((len(f"{k}: {v}") for k, v in self.headers.items()), default=0)
        if too_many or (limits.field_size and longest > limits.field_size):
            what = "limit request headers fields" + ("" if too_many else " size")
            self._refuse(
                line, 431, "Request Header Fields Too Large", f"Error parsing headers: '{what}'"
            )
            return False
        return True

    def _refuse(self, line: bytes, status: int, reason: str, message: str) -> None:
        """gunicorn's own error page: HTML, whatever the client accepts; then it hangs up."""
        method, _, rest = line.decode("latin-1").partition(" ")
        self.fake._record(method, unquote(urlsplit(rest.rpartition(" ")[0]).path), status)
        page = (
            f"<html>\n  <head>\n    <title>{reason}</title>\n  </head>\n  <body>\n"
            f"    <h1><p>{reason}</p></h1>\n    {html.escape(message)}\n  </body>\n</html>\n"
        ).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(page)}\r\n\r\n"
        ).encode()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(head + page)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        delay = self.fake.faults.delay_ms
        if delay:
            time.sleep(delay / 1000)
        # The background worker finished what an earlier request queued (closing.py).
        self.fake.site.run_background()
        status = self.fake._take_failure()
        try:
            if status is not None:
                raise FrappeError(
                    status,
                    "InternalServerError" if status >= 500 else "TooManyRequestsError",
                    "Injected failure",
                    show_message=False,
                )
            user = self.fake.site.authenticate(self.headers.get("Authorization"))
            status, body = self._route(method, path, params, raw, user)
        except _DroppedError:
            self.fake._record(method, path, 0)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except FrappeError as exc:
            status, body = exc.status, exc.body()
        except Exception as exc:  # a bug in the fake: answer like Frappe would
            status = 500
            body = FrappeError(500, type(exc).__name__, str(exc), show_message=False).body()
        self.fake._record(method, path, status)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        # Frappe answers API calls with session cookies too; a token client must ignore them.
        self.send_header("Set-Cookie", "sid=Guest; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(
        self, method: str, path: str, params: dict[str, str], raw: bytes, user: str | None
    ) -> tuple[int, dict[str, Any]]:
        if path.startswith("/api/v1/"):
            path = "/api/" + path[len("/api/v1/") :]
        segments = path.strip("/").split("/", 3)
        site = self.fake.site
        if segments[:2] == ["api", "method"] and len(segments) >= 3:
            if segments[2:] == ["upload_file"]:
                if user is None:
                    raise FrappeError(403, "PermissionError", "Not permitted")
                content_type = self.headers.get("Content-Type") or ""
                return 200, {"message": files.upload_file(site, content_type, raw, user)}
            if raw:  # Frappe reads a method's arguments from the JSON body as from the query
                params = {**params, **_form(json.loads(raw))}
            return 200, {"message": self._method("/".join(segments[2:]), params, user)}
        if segments[:2] != ["api", "resource"] or len(segments) < 3:
            raise errors.not_found("Page", path)
        doctype = segments[2]
        name = segments[3] if len(segments) > 3 else None
        if user is None:
            raise no_permission("Guest", doctype)
        if method == "GET" and name is None:
            return 200, {"data": self._list(doctype, params, user)}
        if method == "GET" and doctype in self.fake.faults.forbidden:
            raise no_permission(user, doctype)
        if method == "GET" and name is not None:
            site.meta.permit_read(doctype, user, single=name == doctype)
            return 200, {"data": site.get(doctype, name, user)}
        body = json.loads(raw or b"{}")
        if isinstance(body.get("data"), str):
            body = json.loads(body["data"])  # frappe also takes form-style data=<json>
        if method == "POST" and name is None:
            message = self.fake._rejection(body.get(OFFLINE_ID))
            if message is not None:
                raise errors.validation(message)
            doc, notes = site.insert(doctype, body, user)
            if self.fake._take_drop(doctype):
                raise _DroppedError
            out: dict[str, Any] = {"data": doc}
            if notes:
                out["_server_messages"] = errors.encode_server_messages(notes)
            return 200, out
        if method == "PUT" and name is not None:
            return 200, {"data": site.update(doctype, name, body, user)}
        raise FrappeError(403, "PermissionError", "Not permitted")

    def _list(self, doctype: str, params: dict[str, str], user: str) -> list[dict[str, Any]]:
        """``GET /api/resource/<doctype>`` and ``frappe.client.get_list``: the same rows."""
        if doctype in self.fake.faults.forbidden:
            raise no_permission(user, doctype)
        self.fake.site.meta.permit_read(doctype, user)
        broken = self.fake.faults.broken.get(doctype)
        if broken is not None:
            raise FrappeError(500, "TypeError", broken, module="builtins", show_message=False)
        return self.fake.site.list_docs(doctype, params, user)

    def _permission_manager(self, call: str, params: dict[str, str], user: str) -> Any:
        """Setup > Role Permissions Manager's methods, for the read rows the appliance needs."""
        meta = self.fake.site.meta
        with self.fake.site.lock:
            if call == ".get_permissions":
                return meta.permissions_of(params.get("doctype", ""), user)
            if call == ".add":
                meta.grant_read(params.get("parent", ""), params.get("role", ""), user)
                return None
            if call == ".update" and params.get("ptype") == "read":
                meta.grant_read(params.get("doctype", ""), params.get("role", ""), user)
                return None
        raise errors.not_found("Method", PERMISSION_MANAGER + call)

    def _method(self, method: str, params: dict[str, str], user: str | None) -> Any:
        if method == "frappe.auth.get_logged_user":
            if user is None:
                raise FrappeError(401, "AuthenticationError", "", show_message=False)
            return user
        if user is None:
            raise FrappeError(403, "PermissionError", "Not permitted")
        site = self.fake.site
        if method == "frappe.utils.change_log.get_versions":
            return v16.VERSIONS[16 if site.version >= 16 else 15]
        if method == "frappe.client.get_single_value":
            with site.lock:
                return v16.get_single_value(
                    site, params.get("doctype", ""), params.get("field", "")
                )
        if method == "frappe.client.get_list":
            return self._list(params.get("doctype", ""), params, user)
        if method.startswith(PERMISSION_MANAGER):
            return self._permission_manager(method[len(PERMISSION_MANAGER) :], params, user)
        if method == "frappe.client.get_count":
            return len(
                self.fake.site.list_docs(
                    params.get("doctype", ""),
                    {"filters": params.get("filters", ""), "limit_page_length": "0"},
                )
            )
        if method == loyalty.DETAILS_METHOD:
            with site.lock:
                return loyalty.details_with_points(site, params)
        raise errors.not_found("Method", method)


def _form(body: Any) -> dict[str, str]:
    """A JSON body as query-style arguments: lists and objects stay JSON text."""
    if not isinstance(body, dict):
        raise FrappeError(417, "ValidationError", "the body must be a JSON object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}

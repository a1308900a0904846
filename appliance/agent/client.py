"""The ERPNext client: Frappe REST v1 over one cookie-less ``requests`` session.

- Token auth (``Authorization: token key:secret``, FACTS §1.2) on every request, never a
  session cookie: with a ``sid`` cookie Frappe would demand a CSRF token (FACTS §1.3), so the
  session's cookie jar refuses every cookie.
- Bounded requests (:mod:`appliance.agent.transport`): ``timeout`` per connect and read, one
  ``deadline`` for the whole exchange, at most ``max_answer`` bytes read; no request line over
  what a stock gunicorn accepts (a listing too long for the URL goes as ``POST
  frappe.client.get_list`` with a JSON body). TLS verified against the system store or
  ``ca_file``.
- Envelopes: ``{"data": ...}`` for ``/api/resource``, ``{"message": ...}`` for ``/api/method``;
  ``_server_messages`` (a JSON list of JSON strings) decoded into plain messages.
- Every failure is an :class:`ERPNextError` whose ``kind`` says what the caller should do
  (FACTS §1.9): RETRY later (network, timeouts, 5xx, 429), QUARANTINE the document (417 business
  rejections, 404 links, 409), or STOP the loop (401/403, TLS, a missing custom field). An
  answer that is no JSON is named by its status and what the page says; 400/413/414/431 are
  "request too large" (a proxy's or gunicorn's limit).
- The secret never appears in a log line, an exception or ``repr``.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from http.cookiejar import Cookie, CookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from appliance.agent.problems import (
    ANSWER_TOO_LARGE,
    BAD_JSON,
    NOT_JSON,
    PROBLEMS,
    TOO_LARGE,
    TOO_SLOW,
)
from appliance.agent.transport import (
    REQUEST_LINE_BUDGET,
    AnswerTooLargeError,
    BoundedAdapter,
    deadline,
    page_summary,
    parse_json,
    read_capped,
    request_line_length,
)
from appliance.config import ERPNextConfig
from appliance.scrub import remember, scrub
from appliance.secret_file import SecretFileError, read_secret_file

log = logging.getLogger(__name__)

USER_AGENT = "appliance-agent/0.1"
SETUP_HINT = "a custom field is missing in ERPNext: run `appliance erpnext setup`"
# Refusals of a request's size by gunicorn (400 request line, 431 headers) or a proxy (413 body,
# 414 URI): named so, since ERPNext's own words never come with them.
TOO_LARGE_STATUSES = (400, 413, 414, 431)
DEFAULT_MAX_ANSWER = 64 * 1024 * 1024  # the largest real page (500 items, all fields) is ~1 MB
LIST_METHOD = "frappe.client.get_list"
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


class ErrorKind(StrEnum):
    RETRY = "retry"  # transient: back off and try again (after re-checking by offline id)
    QUARANTINE = "quarantine"  # ERPNext refused this document: keep it for a person to fix
    STOP = "stop"  # the agent cannot work (credentials, permissions, TLS, setup): stop the loop


@dataclass
class ERPNextError(Exception):
    kind: ErrorKind
    message: str  # ERPNext's own words where it gave any
    status: int | None = None  # None: no HTTP answer at all
    exc_type: str | None = None
    # True when the request may have reached ERPNext and been committed although no answer
    # came back (read timeout, connection dropped after sending).
    maybe_committed: bool = False
    messages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # ERPNext or a proxy may echo credentials back: no error carries them onwards.
        self.message = scrub(self.message)
        self.messages = [scrub(m) for m in self.messages]

    def __str__(self) -> str:
        if self.message.startswith(PROBLEMS):
            return self.message  # a named failure says its status itself, where it has one
        where = f"HTTP {self.status}" if self.status is not None else "no answer"
        kind = f" {self.exc_type}" if self.exc_type else ""
        return f"{where}{kind}: {self.message}"

    @property
    def is_duplicate(self) -> bool:
        """ERPNext already has this document (unique offline id, or the same primary name)."""
        return self.exc_type in ("UniqueValidationError", "DuplicateEntryError")


class _NoCookies(CookiePolicy):
    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def decode_server_messages(raw: Any) -> list[str]:
    """``_server_messages`` -> plain texts (HTML tags stripped, entities unescaped)."""
    if not raw:
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return [str(raw)]
    out = []
    for item in items if isinstance(items, list) else [items]:
        msg: Any = item
        if isinstance(item, str):
            try:
                msg = json.loads(item)
            except json.JSONDecodeError:
                msg = item
        text = msg.get("message", "") if isinstance(msg, dict) else msg
        if isinstance(text, list | dict):
            text = json.dumps(text)
        text = html_text(str(text))
        if text:
            out.append(text)
    return out


def html_text(text: str) -> str:
    """ERPNext's message markup (``<strong>``, links to the desk) as the plain words."""
    # <br> parts sentences ("... System Settings<br>User ... has no access"): keep them apart.
    return html.unescape(_TAG.sub("", _BREAK.sub("; ", text))).strip()


def _exception_text(body: Mapping[str, Any]) -> str:
    exc = str(body.get("exception") or "")
    # "frappe.exceptions.ValidationError: Row #1: ..." -> "Row #1: ..."
    _, sep, rest = exc.partition(": ")
    return html_text(rest if sep else "")


def _missing_field(status: int, exc_type: str | None, message: str) -> bool:
    # What ERPNext answers a filter on a field the doctype lacks (../shared/erpnext/README.md).
    return status == 417 and exc_type == "DataError" and "not permitted in query" in message


def classify(status: int, exc_type: str | None, message: str) -> ErrorKind:
    """FACTS §1.9 and §7 as a decision."""
    if status in (401, 403, 400):
        return ErrorKind.STOP
    if _missing_field(status, exc_type, message):
        return ErrorKind.STOP  # a custom field is missing: `appliance erpnext setup`
    if status == 417 and exc_type == "TimestampMismatchError":
        return ErrorKind.RETRY
    if status in (404, 409, 417) or (400 <= status < 500 and status != 429):
        return ErrorKind.QUARANTINE
    return ErrorKind.RETRY  # 429, 5xx, anything else a server or proxy says when unwell


def page_error(status: int, reason: str, content: bytes) -> ERPNextError:
    """An error answer that is no Frappe JSON: gunicorn's or a proxy's page, named by its status
    and what the page says."""
    page = page_summary(content) or reason or "no text"
    if status in TOO_LARGE_STATUSES:
        # 413 is one document's body (quarantine it); the others hit every request alike.
        kind = ErrorKind.QUARANTINE if status == 413 else ErrorKind.STOP
        return ERPNextError(kind, f"{TOO_LARGE}: the server refused it ({page})", status)
    message = f"{NOT_JSON}: HTTP {status} answered a page ({page})"
    return ERPNextError(classify(status, None, message), message, status)


def error_from_response(resp: requests.Response) -> ERPNextError:
    try:
        body = parse_json(resp.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return page_error(resp.status_code, resp.reason or "", resp.content or b"")
    exc_type = body.get("exc_type")
    messages = decode_server_messages(body.get("_server_messages"))
    # The messages ERPNext raised with come last; notes ("Changed customer name ...") first.
    message = "; ".join(messages) or _exception_text(body) or str(body.get("_error_message") or "")
    if not message:
        message = exc_type or resp.reason or f"HTTP {resp.status_code}"
    if resp.status_code == 401:
        kind = exc_type or "AuthenticationError"
        message = f"authentication failed ({kind}): check [erpnext] api_key and the secret"
    if _missing_field(resp.status_code, exc_type, message):
        message += f" ({SETUP_HINT})"
    if resp.status_code in TOO_LARGE_STATUSES[1:]:
        message = f"{TOO_LARGE}: {message}"
    return ERPNextError(
        classify(resp.status_code, exc_type, message),
        message,
        resp.status_code,
        exc_type,
        messages=messages,
    )


@dataclass(frozen=True)
class Inserted:
    doc: dict[str, Any]
    messages: list[str]  # non-fatal notes, e.g. a renamed customer


def read_secret(cfg: ERPNextConfig) -> str:
    """The API secret from a systemd credential (``$CREDENTIALS_DIRECTORY``) or the secret file.

    Checked before use (:mod:`appliance.secret_file`): one line, and the file private to its
    owner. A systemd credential is private by construction (only the unit's user can read it),
    so only its content is checked.
    """
    candidates: list[tuple[Path, bool]] = []
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        for name in ("erpnext-secret", cfg.api_secret_file.name):
            candidates.append((Path(cred_dir) / name, False))
    candidates.append((cfg.api_secret_file, True))
    for path, private in candidates:
        try:
            secret = read_secret_file(path, private=private)
        except FileNotFoundError:
            continue
        except SecretFileError as exc:
            raise ERPNextError(ErrorKind.STOP, f"[erpnext] api_secret_file: {exc}") from None
        remember(secret)
        return secret
    raise ERPNextError(
        ErrorKind.STOP, f"[erpnext] api_secret_file: {cfg.api_secret_file} does not exist"
    )


class ERPNextClient:
    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        *,
        timeout: float = 15.0,
        deadline: float = 120.0,
        max_answer: int = DEFAULT_MAX_ANSWER,
        verify_tls: bool = True,
        ca_file: Path | None = None,
    ) -> None:
        if not _header_safe(api_key) or not _header_safe(api_secret):
            # requests would refuse the header and quote it, secret and all, in its error.
            raise ERPNextError(
                ErrorKind.STOP,
                "[erpnext] api_key or the secret has a line break, space or control character",
            )
        remember(api_secret, f"{api_key}:{api_secret}")
        self.url = url.rstrip("/")
        self._base = urlsplit(self.url).path  # a site under a prefix: its requests are longer
        self.timeout = timeout
        self.deadline = deadline
        self.max_answer = max_answer
        self._answered = threading.local()  # .size: bytes of this thread's last answer
        self._session = requests.Session()
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, BoundedAdapter())
        self._session.cookies.set_policy(_NoCookies())
        self._session.trust_env = False  # no ~/.netrc auth, no proxy surprises from the env
        self._session.verify = str(ca_file) if ca_file else verify_tls
        self._session.headers.update(
            {
                "Authorization": f"token {api_key}:{api_secret}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )
        self._api_key = api_key

    @classmethod
    def from_config(cls, cfg: ERPNextConfig) -> ERPNextClient:
        return cls(
            cfg.url,
            cfg.api_key,
            read_secret(cfg),
            timeout=cfg.timeout,
            deadline=cfg.deadline,
            max_answer=cfg.max_answer_mb * 1024 * 1024,
            verify_tls=cfg.verify_tls,
            ca_file=cfg.ca_file,
        )

    def __repr__(self) -> str:
        return f"ERPNextClient({self.url!r}, api_key={self._api_key!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ERPNextClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def last_answer_size(self) -> int:
        """Bytes of the last answer read on this thread (0 before any): the puller sizes its
        pages by it."""
        return int(getattr(self._answered, "size", 0))

    # -- transport -----------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        read_only: bool | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """One bounded exchange; ``read_only`` (default: a GET) says a lost answer cannot
        have changed anything in ERPNext."""
        unsafe = method != "GET" if read_only is None else not read_only
        line = request_line_length(method, self._base + path, dict(params or {}))
        if line > REQUEST_LINE_BUDGET:  # our bug, not the server's: say so, send nothing
            raise ERPNextError(
                ErrorKind.STOP,
                f"{TOO_LARGE}: {method} {path} would need a {line}-byte request line "
                f"(a stock ERPNext refuses over {REQUEST_LINE_BUDGET}): not sent",
            )
        url = self.url + path
        with deadline(self.deadline) as watch:
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    # A multipart upload sends ``body`` as its form fields beside ``files``.
                    data=body if files is not None else None if body is None else json.dumps(body),
                    files=files,
                    headers={"Content-Type": "application/json"}
                    if body is not None and files is None
                    else None,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                with resp:
                    content = read_capped(resp, self.max_answer)
            except AnswerTooLargeError as exc:
                raise ERPNextError(
                    ErrorKind.RETRY,
                    f"{ANSWER_TOO_LARGE}: {method} {path}: {exc} ([erpnext] max_answer_mb)",
                ) from None
            except requests.exceptions.RequestException as exc:
                if watch.expired:
                    raise self._too_slow(unsafe) from None
                raise self._transport_error(exc, unsafe) from None
            if watch.expired:  # cut while reading headers: http.client took the cut for an end
                raise self._too_slow(unsafe)
        resp._content = content  # what error_from_response reads
        self._answered.size = len(content)
        if 300 <= resp.status_code < 400:
            raise ERPNextError(
                ErrorKind.STOP,
                f"{self.url} redirects to {resp.headers.get('Location')!r}: set [erpnext] url "
                "to the final address",
                resp.status_code,
            )
        if resp.status_code >= 400:
            raise error_from_response(resp)
        try:
            payload = parse_json(content)
        except ValueError as exc:
            if content.lstrip()[:1] == b"<":
                raise page_error(resp.status_code, resp.reason or "", content) from None
            raise ERPNextError(
                ErrorKind.RETRY,
                f"{BAD_JSON}: {method} {path} (HTTP {resp.status_code}): {exc}",
                resp.status_code,
            ) from None
        if not isinstance(payload, dict):
            raise ERPNextError(
                ErrorKind.RETRY, f"{BAD_JSON}: {method} {path}: the answer is no JSON object"
            )
        return payload

    def _too_slow(self, unsafe: bool) -> ERPNextError:
        return ERPNextError(
            ErrorKind.RETRY,
            f"{TOO_SLOW}: no complete answer from {self.url} within {self.deadline:g} s "
            "([erpnext] deadline)",
            maybe_committed=unsafe,
        )

    def _transport_error(
        self, exc: requests.exceptions.RequestException, unsafe: bool
    ) -> ERPNextError:
        if isinstance(exc, requests.exceptions.SSLError):
            return ERPNextError(ErrorKind.STOP, f"TLS check failed for {self.url}: {_reason(exc)}")
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return ERPNextError(ErrorKind.RETRY, f"timed out connecting to {self.url}")
        if isinstance(exc, requests.exceptions.Timeout):
            return ERPNextError(
                ErrorKind.RETRY,
                f"no answer from {self.url} within {self.timeout:g} s",
                maybe_committed=unsafe,
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = _reason(exc)
            refused = "refused" in reason.lower() or "resolve" in reason.lower()
            return ERPNextError(
                ErrorKind.RETRY,
                f"connection to {self.url} failed: {reason}",
                maybe_committed=unsafe and not refused,
            )
        if isinstance(exc, requests.exceptions.InvalidHeader):
            # Its text quotes the header's value: never passed on.
            return ERPNextError(
                ErrorKind.STOP,
                "a request header was refused before sending: check [erpnext] api_key and the "
                "secret file for a line break or space",
            )
        return ERPNextError(ErrorKind.RETRY, f"request failed: {_reason(exc)}")

    # -- resources -----------------------------------------------------------------------------
    @staticmethod
    def resource_path(doctype: str, name: str | None = None) -> str:
        # Names must be fully percent-encoded: "GST 5% + PST 7% - PTC" unencoded gave a 500.
        path = "/api/resource/" + quote(doctype, safe="")
        return path if name is None else path + "/" + quote(name, safe="")

    def get_list(
        self,
        doctype: str,
        *,
        fields: Sequence[str] = ("name",),
        filters: Any = None,
        or_filters: Any = None,
        order_by: str | None = None,
        limit_start: int = 0,
        limit_page_length: int = 20,
        parent: str | None = None,
    ) -> list[dict[str, Any]]:
        args: dict[str, Any] = {
            "fields": list(fields),
            "filters": filters,
            "or_filters": or_filters,
            "order_by": order_by,
            "limit_start": limit_start,
            "limit_page_length": limit_page_length,
            "parent": parent,
        }
        args = {k: v for k, v in args.items() if v is not None and v != ""}
        params = {k: v if isinstance(v, str | int) else json.dumps(v) for k, v in args.items()}
        path = self.resource_path(doctype)
        if request_line_length("GET", self._base + path, params) <= REQUEST_LINE_BUDGET:
            data = self._request("GET", path, params=params).get("data")
        else:
            # Too long for a URL (hundreds of names in an `in` filter): the same listing with
            # the arguments in a JSON body, which no request-line limit applies to.
            body = {"doctype": doctype, **args}
            data = self._request(
                "POST", "/api/method/" + LIST_METHOD, body=body, read_only=True
            ).get("message")
        if not isinstance(data, list):
            raise ERPNextError(ErrorKind.RETRY, f"{doctype} list: no list of rows in the answer")
        return data

    def iter_list(
        self,
        doctype: str,
        *,
        fields: Sequence[str] = ("name",),
        filters: Any = None,
        order_by: str = "modified asc, name asc",
        page_size: int = 500,
        parent: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of a listing, ``page_size`` rows at a time, until a short page."""
        start = 0
        while True:
            rows = self.get_list(
                doctype,
                fields=fields,
                filters=filters,
                order_by=order_by,
                limit_start=start,
                limit_page_length=page_size,
                parent=parent,
            )
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            start += len(rows)

    def get_doc(self, doctype: str, name: str) -> dict[str, Any] | None:
        """The full document with child tables, or None if ERPNext has no such document."""
        try:
            data = self._request("GET", self.resource_path(doctype, name)).get("data")
        except ERPNextError as exc:
            if exc.status == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    def insert(self, doctype: str, doc: Mapping[str, Any]) -> Inserted:
        """``POST /api/resource/<doctype>``; ``docstatus: 1`` in ``doc`` also submits it."""
        payload = self._request("POST", self.resource_path(doctype), body=dict(doc))
        data = payload.get("data")
        if not isinstance(data, dict) or not data.get("name"):
            raise ERPNextError(ErrorKind.RETRY, f"POST {doctype}: no document in the answer")
        return Inserted(data, decode_server_messages(payload.get("_server_messages")))

    def update(self, doctype: str, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /api/resource/<doctype>/<name>``: the saved document.

        A child table in ``changes`` replaces the table; rows without ``name`` are new (FACTS
        §1.6). With the last-seen ``modified`` in ``changes``, a concurrent edit answers 417
        TimestampMismatchError instead of being overwritten (FACTS §1.7).
        """
        data = self._request("PUT", self.resource_path(doctype, name), body=dict(changes))
        doc = data.get("data")
        if not isinstance(doc, dict):
            raise ERPNextError(ErrorKind.RETRY, f"PUT {doctype} {name}: no document in the answer")
        return doc

    def submit(self, doctype: str, name: str) -> dict[str, Any]:
        """Submit a draft (``PUT {"docstatus": 1}``, FACTS §1.6)."""
        data = self._request("PUT", self.resource_path(doctype, name), body={"docstatus": 1}).get(
            "data"
        )
        return data if isinstance(data, dict) else {}

    def call(self, method: str, **params: Any) -> Any:
        """``GET /api/method/<dotted.path>`` (a POST with a JSON body when the arguments are too
        long for a URL; only read-only methods are called): the ``message`` of the answer."""
        path = "/api/method/" + method
        if request_line_length("GET", self._base + path, params) <= REQUEST_LINE_BUDGET:
            return self._request("GET", path, params=params).get("message")
        return self._request("POST", path, body=params, read_only=True).get("message")

    def post_method(self, method: str, **params: Any) -> Any:
        """``POST /api/method/<dotted.path>`` with a JSON body, for a method that writes: the
        ``message`` of the answer."""
        return self._request("POST", "/api/method/" + method, body=params).get("message")

    def upload_file(
        self, doctype: str, name: str, filename: str, content: bytes, *, private: bool = True
    ) -> dict[str, Any]:
        """Attach a file to a document (multipart ``upload_file``): the File document."""
        form = {"doctype": doctype, "docname": name, "is_private": "1" if private else "0"}
        payload = self._request(
            "POST",
            "/api/method/upload_file",
            body=form,
            files={"file": (filename, content, "application/octet-stream")},
        )
        made = payload.get("message")
        if not isinstance(made, dict) or not made.get("name"):
            raise ERPNextError(ErrorKind.RETRY, f"upload of {filename}: no File in the answer")
        return made

    def logged_user(self) -> str:
        user = self.call("frappe.auth.get_logged_user")
        if not isinstance(user, str) or not user:
            raise ERPNextError(ErrorKind.STOP, "ERPNext did not say which user the key belongs to")
        return user


def _header_safe(value: str) -> bool:
    return bool(value) and all(c.isprintable() and not c.isspace() for c in value)


def _reason(exc: BaseException) -> str:
    # requests wraps urllib3 errors several levels deep; the innermost says what happened.
    inner: BaseException = exc
    seen = 0
    while seen < 6:
        nxt = inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None
        nxt = nxt or getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException):
            break
        inner, seen = nxt, seen + 1
    text = str(inner) or type(inner).__name__
    return text.split(": ", 1)[-1] if "object at 0x" in text else text

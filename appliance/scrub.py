"""Credentials out of every error text the appliance stores or shows.

One function, :func:`scrub`, used wherever a failure's text is written down (the outbox's
``last_error``, the audit journal, the agent's sync state, its log) or shown (``appliance
status``, ``appliance sync --once``, the counter's screens, the support bundle). It blanks:

- every secret this process has read (:func:`remember`: the ERPNext API secret, and the
  ``key:secret`` pair the Authorization header carries), wherever it appears;
- token-shaped strings (``token key:secret``) and ``Authorization:`` header values, for text
  that came from elsewhere (ERPNext or a proxy echoing the header back, an old log line);
- a header value ``requests`` quotes when it refuses one (it may span lines);
- credentials inside URLs (``https://user:pass@host``).

The patterns stop at quotes and commas: the text may be JSON, which must stay parseable.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

REDACTED = "<redacted>"
MIN_SECRET = 4  # shorter "secrets" would blank ordinary words

# (pattern, what replaces it): group 1 is kept, the rest blanked.
_PATTERNS = (
    (
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:token|bearer|basic)\s+)?)[^\s\"',]+"
        ),
        REDACTED,
    ),
    (re.compile(r"(?i)(\btoken\s+)[^\s:\"',]+:[^\s\"',]+"), REDACTED),
    (re.compile(r"(?is)(header value:\s*)('[^']*'|\"[^\"]*\"|\S+)"), REDACTED),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s@\"',]+@"), REDACTED + "@"),
)

_known: set[str] = set()
_lock = threading.Lock()


def remember(*secrets: str) -> None:
    """Secrets this process holds: blanked from every text :func:`scrub` sees from now on."""
    with _lock:
        _known.update(s for s in secrets if len(s) >= MIN_SECRET)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with known secrets, ``secrets`` and credential-shaped strings blanked."""
    with _lock:
        values = _known | {s for s in secrets if len(s) >= MIN_SECRET}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern, blank in _PATTERNS:
        text = pattern.sub(r"\g<1>" + blank, text)
    return text


def scrub_optional(text: str | None) -> str | None:
    return None if text is None else scrub(text)


class ScrubFilter(logging.Filter):
    """Scrubs each record before any handler formats or sends it.

    The message is rendered and its arguments dropped, and a traceback is rendered to text:
    the journal handler would otherwise send the raw arguments and exception as fields of
    their own.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True

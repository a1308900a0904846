"""The named failures of a sync, short enough for the till's status bar.

Each such failure's message starts with its name (``request too large: the server refused it
(Bad Request: Request Line is too large (8192 > 4094))``); this module has no heavy imports so
the counter can name the problem without loading the HTTP client.
"""

from __future__ import annotations

TOO_LARGE = "request too large"  # gunicorn's or a proxy's size limit (400/413/414/431)
NOT_JSON = "not JSON"  # an HTML page (a proxy's 502, a login page) where JSON was due
BAD_JSON = "bad JSON"  # cut short, nested too deeply, not an object
ANSWER_TOO_LARGE = "answer too large"  # more than [erpnext] max_answer_mb
TOO_SLOW = "too slow"  # the whole exchange overran [erpnext] deadline
PROBLEMS = (TOO_LARGE, NOT_JSON, BAD_JSON, ANSWER_TOO_LARGE, TOO_SLOW)


def problem_of(message: object) -> str | None:
    """The named failure a message starts with, if any."""
    text = message if isinstance(message, str) else ""
    return next((name for name in PROBLEMS if text.startswith(f"{name}: ")), None)

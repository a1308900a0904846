"""Keeping secrets out of what leaves the terminal (support bundles).

Two layers: every ``key = value`` whose key looks sensitive is blanked in the config text, and
every value such a key had is then scrubbed from all the bundle's text (a log line quoting it,
a second copy elsewhere). Keys naming a file (``api_secret_file``) keep their value: a path is
what support needs, and the file itself is never read. API tokens in log lines and credentials
in URLs are blanked by shape, by the appliance's one scrubbing function (:mod:`appliance.scrub`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

from appliance.scrub import REDACTED, scrub

__all__ = ["REDACTED", "redact_toml_text", "scrub", "secret_values", "sensitive"]

_SENSITIVE = re.compile(r"secret|key|passw|token|credential|auth", re.IGNORECASE)
_PATH_SUFFIXES = ("_file", "_path", "_dir")
# A TOML key/value pair, bare or quoted key, in a table or an inline table.
_PAIR = re.compile(
    r"""(?P<key>[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')(?P<eq>[ \t]*=[ \t]*)"""
    r"""(?P<value>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'"""
    r"""|\[[^\]]*\]|[^,}\s#]+)"""
)


def sensitive(key: str) -> bool:
    key = key.strip("\"'")
    return bool(_SENSITIVE.search(key)) and not key.lower().endswith(_PATH_SUFFIXES)


def redact_toml_text(text: str) -> str:
    """The config file as written (comments kept), sensitive values replaced."""

    def blank(match: re.Match[str]) -> str:
        if not sensitive(match["key"]):
            return match[0]
        return f'{match["key"]}{match["eq"]}"{REDACTED}"'

    return _PAIR.sub(blank, text)


def secret_values(text: str) -> set[str]:
    """Every string a sensitive key holds in this TOML text (nested tables included)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return set()
    return {v for v in _walk(data) if len(v) >= 4}


def _walk(node: Any, under_sensitive: bool = False) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, under_sensitive or sensitive(str(key)))
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, under_sensitive)
    elif under_sensitive and isinstance(node, str):
        yield node


# Customers' contacts that ERPNext quotes in its messages ("Customer ... (jane@x.org, +1 604
# 555 0199) already exists"). Phone numbers are told from the bundle's other numbers (times,
# dates, addresses, ids, amounts) by shape: an international prefix or separated digit groups,
# 7 to 15 digits in all, not inside a word or a dotted/colon-separated run, not a date or an IP.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\w.:/+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}"
    r"(?![\w.:/-])|(?<![\w.:/+-])\+\d{7,15}(?![\w.:/-])"
)
_NOT_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|^\d{1,3}(?:\.\d{1,3}){3}$")
EMAIL_REDACTED = "<e-mail>"
PHONE_REDACTED = "<phone>"


def redact_personal(text: str) -> str:
    """E-mail addresses and phone numbers blanked (what ERPNext's messages quote of customers)."""

    def phone(match: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in match[0])
        if not 7 <= digits <= 15 or _NOT_PHONE.search(match[0]):
            return match[0]
        return PHONE_REDACTED

    return _PHONE.sub(phone, _EMAIL.sub(EMAIL_REDACTED, text))

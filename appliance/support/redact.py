"""Keeping secrets out of what leaves the terminal (support bundles).

Two layers: every ``key = value`` whose key looks sensitive is blanked in the config text, and
every value such a key had is then scrubbed from all the bundle's text (a log line quoting it,
a second copy elsewhere). Keys naming a file (``api_secret_file``) keep their value: a path is
what support needs, and the file itself is never read. API tokens in log lines are blanked by
shape (``token key:secret``, ``Authorization:``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

REDACTED = "<redacted>"
_SENSITIVE = re.compile(r"secret|key|passw|token|credential|auth", re.IGNORECASE)
_PATH_SUFFIXES = ("_file", "_path", "_dir")
# A TOML key/value pair, bare or quoted key, in a table or an inline table.
_PAIR = re.compile(
    r"""(?P<key>[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')(?P<eq>[ \t]*=[ \t]*)"""
    r"""(?P<value>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'"""
    r"""|\[[^\]]*\]|[^,}\s#]+)"""
)
# Stops at quotes and commas: the text may be JSON, which must stay parseable.
_LOG_TOKENS = (
    re.compile(
        r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:token|bearer|basic)\s+)?)[^\s\"',]+"
    ),
    re.compile(r"(?i)(\btoken\s+)[^\s:\"',]+:[^\s\"',]+"),
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


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Known secret values and token-shaped strings blanked from free text (logs, JSON)."""
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern in _LOG_TOKENS:
        text = pattern.sub(lambda m: m[1] + REDACTED, text)
    return text

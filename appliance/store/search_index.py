"""The full-text indexes behind item and customer search (FTS5, created by migration 0002).

``items_fts`` (item_code, item_name), ``item_barcodes_fts`` (barcode) and ``customers_fts``
(customer_name, mobile_no) are external-content FTS5 tables: the index only, kept in step with
their tables by triggers. With SQLite >= 3.34 they use the trigram tokenizer, so any substring of
three or more characters is an index lookup; older SQLite gets unicode61 words with prefix
indexes, where a query matches the start of words instead.

``items_short_fts`` (migration 0005_short_term_search) holds every two-character run of
"item_code item_name" as a unicode61 token, for search terms of one or two characters, which
the trigram index cannot look up.

Alembic's autogenerate must not see them (they are not in the models): ``include_object``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

ITEMS = "items_fts"
BARCODES = "item_barcodes_fts"
CUSTOMERS = "customers_fts"
SHORT = "items_short_fts"
FTS_TABLES = (ITEMS, BARCODES, CUSTOMERS, SHORT)
# What FTS5 creates beside each virtual table.
_SHADOW = re.compile(rf"^({'|'.join(FTS_TABLES)})(_(data|idx|content|docsize|config))?$")
TRIGRAM_MIN = 3  # trigram queries shorter than this match nothing


class Tokenizer(StrEnum):
    TRIGRAM = "trigram"  # substrings of three or more characters
    UNICODE61 = "unicode61"  # whole words, with prefix queries


POSITIONS = "short_search_positions"  # 1..1000, the runs items_short_text cuts (0005)


def is_search_table(name: str | None) -> bool:
    return bool(name) and (name == POSITIONS or _SHADOW.match(name or "") is not None)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic hook: leave the search tables (FTS, shadow, positions) out of autogenerate."""
    return not (type_ == "table" and is_search_table(name))


def tokenizer(connection: Session | Connection) -> Tokenizer:
    """Which tokenizer the migration chose for this database."""
    sql = connection.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": ITEMS},
    ).scalar()
    if sql is None:
        raise LookupError(f"no {ITEMS} table: the database is not migrated (appliance db migrate)")
    return Tokenizer.TRIGRAM if "trigram" in str(sql) else Tokenizer.UNICODE61


def rebuild(session: Session) -> None:
    """Re-index every table from its content (after a VACUUM or a table copy renumbered rowids)."""
    for table in FTS_TABLES:
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('rebuild')"))


def integrity_problems(session: Session) -> list[str]:
    """FTS5's own check that each index matches its table; one message per broken index."""
    problems = []
    for table in FTS_TABLES:
        try:
            session.execute(
                text(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
            )
        except DBAPIError as exc:
            problems.append(f"{table}: {str(exc).splitlines()[0]}")
    return problems


def match_expression(needle: str, kind: Tokenizer) -> str | None:
    """An FTS5 MATCH string for "every word of ``needle`` occurs", or None if nothing can match.

    Trigram: each word of three or more characters is a quoted phrase, which matches it as a
    substring; shorter words cannot be matched by the index (the caller filters for them).
    unicode61: each word becomes a quoted prefix query.
    """
    words = [w for w in needle.split() if w]
    if kind is Tokenizer.TRIGRAM:
        terms = [_quote(w) for w in words if len(w) >= TRIGRAM_MIN]
    else:
        terms = [_quote(t) + "*" for w in words for t in _words(w)]
    return " AND ".join(terms) if terms else None


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _words(text_: str) -> list[str]:
    # unicode61 splits on anything not a letter or digit; a query term must be split the same way.
    return [w for w in re.split(r"[^\w]+|_", text_) if w]


def short_match_expression(needle: str) -> tuple[str | None, list[str]]:
    """The ``items_short_fts`` MATCH string for a needle of one- and two-character words.

    A two-character word of letters and digits is one token, a one-character word a prefix
    query (the token of any run starting with it). A word with other characters ("#1", "-") is
    looked up by its letters and digits alone, a superset, and returned in the second element:
    the caller must also check it with LIKE. None when no word has a letter or digit.
    """
    terms: list[str] = []
    odd: list[str] = []
    for word in needle.split():
        kept = "".join(c for c in word if c.isalnum())
        if kept != word:
            odd.append(word)
        if kept:
            terms.append(_quote(kept) + ("*" if len(kept) == 1 else ""))
    return (" AND ".join(terms) if terms else None), odd

"""The full-text indexes behind item and customer search (FTS5, created by migration 0002).

``items_fts`` (item_code, item_name), ``item_barcodes_fts`` (barcode) and ``customers_fts``
(customer_name, mobile_no) are external-content FTS5 tables: the index only, kept in step with
their tables by triggers. With SQLite >= 3.34 they use the trigram tokenizer, so any substring of
three or more characters is an index lookup; older SQLite gets unicode61 words with prefix
indexes, where a query matches the start of words instead.

``items_short_fts`` (migration 0005_short_term_search) holds every two-character run of
"item_code item_name" as a unicode61 token, for search terms of one or two characters, which
the trigram index cannot look up.

``sale_customers_fts`` (pos_invoices.customer) and ``sale_lines_fts`` (pos_invoice_items.item_name)
serve the receipt journal (migration 0013_journal_search); their content rowid is the table's
integer ``id``, which never changes.

Alembic's autogenerate must not see them (they are not in the models): ``include_object``.
"""

from __future__ import annotations

import json
import re
import time
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, delete, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.models.sync import SyncState

ITEMS = "items_fts"
BARCODES = "item_barcodes_fts"
CUSTOMERS = "customers_fts"
SHORT = "items_short_fts"
# The receipt journal's: a sale's customer id and its lines' item names (0013_journal_search).
SALE_CUSTOMERS = "sale_customers_fts"
SALE_LINES = "sale_lines_fts"
FTS_TABLES = (ITEMS, BARCODES, CUSTOMERS, SHORT, SALE_CUSTOMERS, SALE_LINES)
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


# -- the item indexes during a first pull ----------------------------------------------------------
# sync_state key holding the dropped triggers ([[name, sql], ...]) while the item indexes wait.
DEFERRED_KEY = "search.deferred_triggers"
# Tables only the sync agent writes: their index can wait for the end of a first pull.
DEFERRABLE_CONTENT = ("items", "item_barcodes")
INDEX_CHUNK = 500  # rows indexed in the first transaction when the deferred index is built
# Later transactions are sized to last about this long: a sale commit waits no more than that
# for the write lock, and a first pull of 100,000 items no longer pays a disk sync per 500
# rows (700 commits, seconds of fsync on a busy machine).
INDEX_CHUNK_SECONDS = 0.03
MAX_INDEX_CHUNK = 20_000


def defer_item_index(session: Session) -> bool:
    """Stop indexing items and barcodes row by row (their triggers cost two thirds of a first
    pull's writes); :func:`restore_item_index` indexes them in one pass and puts the triggers
    back. The triggers' own SQL is kept in ``sync_state`` in the same transaction, so a pull
    killed meanwhile resumes deferred and restores the same triggers. Scanning is unaffected
    (barcodes are looked up by their table's index); a name search does not see the items the
    pull wrote until the index is back. True if this call deferred (False: already deferred).
    Only the caller's transaction: it commits."""
    if session.get(SyncState, DEFERRED_KEY) is not None:
        return False
    marks = ", ".join(f"'{t}'" for t in DEFERRABLE_CONTENT)
    triggers = [
        [str(name), str(sql)]
        for name, sql in session.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                f"AND tbl_name IN ({marks}) ORDER BY name"
            )
        )
        if _fts_of(str(name)) is not None
    ]
    for name, _sql in triggers:
        session.execute(text(f'DROP TRIGGER IF EXISTS "{name}"'))
    session.add(SyncState(key=DEFERRED_KEY, value=json.dumps(triggers)))
    session.flush()
    return True


def index_deferred(session: Session) -> bool:
    """Whether the item indexes are waiting for a first pull to end."""
    return session.get(SyncState, DEFERRED_KEY) is not None


def restore_item_index(factory: sessionmaker[Session], chunk: int = INDEX_CHUNK) -> list[str]:
    """Index what the deferred tables hold and put their triggers back; returns the indexes
    built. ``chunk`` rows per transaction, so a sale commit waits at most one chunk for the
    write lock (one ``rebuild`` of 250,000 items held it for seconds). The last chunk's
    transaction puts the triggers back: the sync agent is the only writer of these tables
    and it is the one building. Nothing to do when nothing is deferred."""
    with factory() as session, session.begin():
        row = session.get(SyncState, DEFERRED_KEY)
        raw = None if row is None else row.value
    if raw is None:
        return []
    triggers: list[list[str]] = json.loads(raw)
    by_index: dict[str, list[list[str]]] = {}
    for name, sql in triggers:
        by_index.setdefault(_fts_of(name) or "", []).append([name, sql])
    for fts, own in by_index.items():
        _index_in_chunks(factory, fts, own, chunk)
    with factory() as session, session.begin():
        session.execute(delete(SyncState).where(SyncState.key == DEFERRED_KEY))
    return list(by_index)


def _index_in_chunks(
    factory: sessionmaker[Session], fts: str, triggers: list[list[str]], chunk: int
) -> None:
    with factory() as session:
        source = _content_of(session, fts) if fts else None
    with factory() as session, session.begin():
        if source is not None:
            session.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')"))
        elif fts:  # not external content: FTS5's own rebuild, in one go
            session.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))
    after: int | None = None
    rows = chunk
    while True:
        started = time.perf_counter()
        with factory() as session, session.begin():
            if source is not None:
                after = _index_next(session, fts, source, after, rows)
            if source is None or after is None:
                present = set(
                    session.execute(
                        text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    ).scalars()
                )
                for name, sql in triggers:
                    if name not in present:
                        session.execute(text(sql))
                return
        took = time.perf_counter() - started
        if took > 0:
            rows = max(chunk, min(MAX_INDEX_CHUNK, int(rows * INDEX_CHUNK_SECONDS / took)))


def _content_of(session: Session, fts: str) -> tuple[str, str, list[str]] | None:
    """(content table, its rowid column, the indexed columns) of an external-content index."""
    sql = str(
        session.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": fts},
        ).scalar()
        or ""
    )
    content = re.search(r"content\s*=\s*'(\w+)'", sql)
    rowid = re.search(r"content_rowid\s*=\s*'(\w+)'", sql)
    if content is None:
        return None
    columns = [str(r[1]) for r in session.execute(text(f"PRAGMA table_info({fts})"))]
    return content.group(1), rowid.group(1) if rowid else "rowid", columns


def _index_next(
    session: Session, fts: str, source: tuple[str, str, list[str]], after: int | None, n: int
) -> int | None:
    """Index the next ``n`` rows after rowid ``after``; the last rowid indexed, None at the end."""
    content, rowid, columns = source
    start = -(2**63) if after is None else after
    last = session.execute(
        text(
            f"SELECT max(r) FROM (SELECT {rowid} AS r FROM {content} WHERE {rowid} > :start "
            f"ORDER BY {rowid} LIMIT :n)"
        ),
        {"start": start, "n": n},
    ).scalar()
    if last is None:
        return None
    cols = ", ".join(columns)
    session.execute(
        text(
            f"INSERT INTO {fts}(rowid, {cols}) SELECT {rowid}, {cols} FROM {content} "
            f"WHERE {rowid} > :start AND {rowid} <= :last"
        ),
        {"start": start, "last": last},
    )
    return int(last)


def _fts_of(trigger: str) -> str | None:
    """The search table a trigger keeps (``items_fts_ai`` -> ``items_fts``), or None."""
    for table in sorted(FTS_TABLES, key=len, reverse=True):
        if trigger.startswith(table + "_"):
            return table
    return None

"""An index for search terms of one or two characters ("2L", "AA", "6x", "7").

The trigram index of 0002 cannot look up fewer than three characters, and scanning 250,000
items for ``LIKE '%2l%'`` takes tens of milliseconds when few items match. ``items_short_fts``
indexes, for each item, every two-character run of "item_code item_name" (one character at the
end of each word) as a unicode61 token: "Milk 2L" holds mi, il, lk, k, 2l, l. A two-character
term is then one token lookup and a one-character term a prefix lookup (``prefix = '1'``);
unicode61 folds case and drops accents, as ERPNext's MariaDB collation does.

The text indexed comes from the view ``items_short_text`` (positions from the table
``short_search_positions``), which is also the FTS5 table's external content: 'rebuild' and
'integrity-check' read the view, and the triggers copy its row, so one SQL expression says
what is indexed. The delete half runs BEFORE the change, while the
view still shows the old row. As in 0002, only a change to item_code or item_name touches it.

The DDL is spelled out here, not imported, so this revision never changes with the code.

Revision ID: 0005_short_term_search
Revises: 0004
Create Date: 2026-12-07 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_short_term_search"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Positions 1..1000 of "item_code item_name": ERPNext caps each at 140 characters (Data), so
# every run is indexed with room to spare. Joining this table costs less than a recursive CTE.
_POSITIONS = 1000
_VIEW = """
CREATE VIEW items_short_text AS
SELECT t.item_rowid,
       (SELECT group_concat(substr(t.s, p.k, 2), ' ') FROM short_search_positions AS p
        WHERE p.k <= length(t.s)) AS grams
FROM (SELECT i.rowid AS item_rowid, i.item_code || ' ' || i.item_name AS s FROM items AS i) AS t
"""
_ROW = "SELECT item_rowid, grams FROM items_short_text WHERE item_rowid = {}.rowid"
_DELETE = "INSERT INTO items_short_fts(items_short_fts, rowid, grams) SELECT 'delete', " + (
    _ROW.removeprefix("SELECT ").format("old")
)
_INSERT = "INSERT INTO items_short_fts(rowid, grams) " + _ROW.format("new")
_CHANGED = "old.item_code IS NOT new.item_code OR old.item_name IS NOT new.item_name"


def upgrade() -> None:
    op.execute("CREATE TABLE short_search_positions (k INTEGER PRIMARY KEY)")
    op.execute(
        "INSERT INTO short_search_positions(k) WITH RECURSIVE n(k) AS "
        f"(SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {_POSITIONS}) SELECT k FROM n"
    )
    op.execute(_VIEW)
    op.execute(
        "CREATE VIRTUAL TABLE items_short_fts USING fts5(grams, content = 'items_short_text', "
        "content_rowid = 'item_rowid', detail = none, prefix = '1', "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    op.execute(f"CREATE TRIGGER items_short_fts_ai AFTER INSERT ON items BEGIN {_INSERT}; END")
    op.execute(f"CREATE TRIGGER items_short_fts_bd BEFORE DELETE ON items BEGIN {_DELETE}; END")
    op.execute(
        f"CREATE TRIGGER items_short_fts_bu BEFORE UPDATE ON items WHEN {_CHANGED} "
        f"BEGIN {_DELETE}; END"
    )
    op.execute(
        f"CREATE TRIGGER items_short_fts_au AFTER UPDATE ON items WHEN {_CHANGED} "
        f"BEGIN {_INSERT}; END"
    )
    op.execute("INSERT INTO items_short_fts(items_short_fts) VALUES ('rebuild')")


def downgrade() -> None:
    for suffix in ("ai", "bd", "bu", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS items_short_fts_{suffix}")
    op.execute("DROP TABLE IF EXISTS items_short_fts")
    op.execute("DROP VIEW IF EXISTS items_short_text")
    op.execute("DROP TABLE IF EXISTS short_search_positions")

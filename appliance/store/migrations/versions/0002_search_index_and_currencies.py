"""Full-text search over items, barcodes and customers; the currencies table.

Search as you type must find "contains" matches among 100,000 items in a few milliseconds, which
no B-tree index can do. FTS5 with the trigram tokenizer (SQLite >= 3.34) indexes every
three-character run, so a substring of three or more characters is an index lookup; older SQLite
falls back to unicode61 words with prefix indexes (word-prefix matches instead of substrings).

The FTS tables are external-content indexes over ``items``, ``item_barcodes`` and ``customers``:
they store no copy of the text, only the index, keyed by the content table's rowid, and triggers
keep them in step with every insert, update and delete. ``items`` and ``customers`` have text
primary keys, so their rowid is implicit: a VACUUM or a batch migration that copies either table
may renumber it, after which ``appliance.store.search_index.rebuild`` must run (a later migration
that copies either table must also re-create these triggers, which the copy drops).

The DDL is spelled out here, not imported, so this revision never changes with the code.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (fts table, content table, content rowid, indexed columns)
_INDEXES = (
    ("items_fts", "items", "rowid", ("item_code", "item_name")),
    ("item_barcodes_fts", "item_barcodes", "id", ("barcode",)),
    ("customers_fts", "customers", "rowid", ("customer_name", "mobile_no")),
)
TRIGRAM_SINCE = (3, 34, 0)


def _tokenizer() -> str:
    version = op.get_bind().exec_driver_sql("SELECT sqlite_version()").scalar_one()
    parts = tuple(int(p) for p in str(version).split(".")[:3])
    if parts >= TRIGRAM_SINCE:
        return "tokenize = 'trigram'"
    return "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'"


def _create_index(fts: str, content: str, rowid: str, columns: Sequence[str], tok: str) -> None:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content = '{content}', "
        f"content_rowid = '{rowid}', {tok})"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {content} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{rowid}, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{rowid}, {old}); END"
    )
    # Only a change to an indexed column touches the index: re-pulling an unchanged master
    # (an upsert that rewrites every column) costs the index nothing.
    op.execute(
        f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {content} WHEN {changed} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{rowid}, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{rowid}, {new}); END"
    )
    # Index whatever the table already holds.
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def upgrade() -> None:
    op.create_table(
        "currencies",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("smallest_currency_fraction_value", sa.String(), nullable=False),
        sa.Column("number_format", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_currencies")),
    )
    tok = _tokenizer()
    for fts, content, rowid, columns in _INDEXES:
        _create_index(fts, content, rowid, columns, tok)


def downgrade() -> None:
    for fts, _content, _rowid, _columns in reversed(_INDEXES):
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
    op.drop_table("currencies")

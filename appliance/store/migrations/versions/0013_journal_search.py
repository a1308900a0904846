"""Indexes for the receipt journal's search (counter/receipt_journal.py, issue 19 item 1).

Every reading of a typed term gets an index, so a term that matches few sales is a few index
lookups instead of a pass over every sale the till keeps (0.4-0.6 s at 200,000 sales):

- a receipt number in any case: ``upper(receipt_no)``; just its number ("54"): the last seven
  characters (``-000054``), which the search checks against the whole pattern afterwards;
- a time or an hour: ``posting_time``; newest first: ``(posting_date, posting_time, ...)`` with
  the other columns a term checks, so a search that reads many sales reads only this index;
- an amount: the paid total as a number, rounded and not (the store's setting picks one);
- an item code in any case: ``upper(item_code)`` on the sale's lines;
- part of the sale's customer id and part of a line's item name: external-content FTS5 tables
  over ``pos_invoices.customer`` and ``pos_invoice_items.item_name`` (trigram, as 0002's, or
  unicode61 words on SQLite older than 3.34, where the search does not use them), kept by
  triggers in the transaction that writes the sale. ``id`` is their rowid: it never changes.

Existing sales are indexed when the migration runs ('rebuild'). The DDL is spelled out here,
not imported, so this revision never changes with the code.

Revision ID: 0013_journal_search
Revises: 0012_loyalty_credit
Create Date: 2026-12-07 20:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_journal_search"
down_revision: str | None = "0012_loyalty_credit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_SINCE = (3, 34, 0)
# Newest first, with every column a term checks: read without the rows (each mostly payload).
# is_return too: the quick keys' favourites read four weeks of sales from it alone.
_POSTED = (
    "posting_date, posting_time, customer, receipt_no, offline_id, rounded_total, grand_total, "
    "is_return"
)
# (index, table, expression): created and dropped as plain SQL, expressions included.
_INDEXES = (
    ("ix_pos_invoices_receipt_upper", "pos_invoices", "upper(receipt_no)"),
    ("ix_pos_invoices_receipt_tail", "pos_invoices", "substr(receipt_no, -7)"),
    ("ix_pos_invoices_posted", "pos_invoices", _POSTED),
    ("ix_pos_invoices_posting_time", "pos_invoices", "posting_time"),
    ("ix_pos_invoices_rounded_amount", "pos_invoices", "abs(CAST(rounded_total AS FLOAT))"),
    ("ix_pos_invoices_grand_amount", "pos_invoices", "abs(CAST(grand_total AS FLOAT))"),
    ("ix_pos_invoice_items_code_upper", "pos_invoice_items", "upper(item_code)"),
)
# (fts table, content table, indexed column)
_SEARCH = (
    ("sale_customers_fts", "pos_invoices", "customer"),
    ("sale_lines_fts", "pos_invoice_items", "item_name"),
)


def _tokenizer() -> str:
    version = op.get_bind().exec_driver_sql("SELECT sqlite_version()").scalar_one()
    parts = tuple(int(p) for p in str(version).split(".")[:3])
    if parts >= TRIGRAM_SINCE:
        return "tokenize = 'trigram'"
    return "tokenize = 'unicode61 remove_diacritics 2'"


def _create_search(fts: str, content: str, col: str, tok: str) -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({col}, content = '{content}', "
        f"content_rowid = 'id', {tok})"
    )
    insert = f"INSERT INTO {fts}(rowid, {col}) VALUES (new.id, new.{col});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.id, old.{col});"
    op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {content} BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {content} BEGIN {delete} END")
    # A till-created customer renamed by ERPNext rewrites its sales' customer: re-index those.
    op.execute(
        f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {content} "
        f"WHEN old.{col} IS NOT new.{col} OR old.id IS NOT new.id BEGIN {delete} {insert} END"
    )
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def upgrade() -> None:
    for name, table, expression in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({expression})")
    tok = _tokenizer()
    for fts, content, col in _SEARCH:
        _create_search(fts, content, col, tok)


def downgrade() -> None:
    for fts, _content, _col in reversed(_SEARCH):
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
    for name, _table, _expression in reversed(_INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")

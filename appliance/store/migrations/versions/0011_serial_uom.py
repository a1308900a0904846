"""Sales Persons, so a sale names one ERPNext has (issue 19 item 7); Serial Nos and Batches,
so a serial or batch item is sold with a number this shop holds (item 6).

Revision ID: 0011_serial_uom
Revises: 0010_offers
Create Date: 2026-12-07 20:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_serial_uom"
down_revision: str | None = "0010_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sales_persons",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("sales_person_name", sa.String(), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sales_persons")),
    )
    op.create_table(
        "serial_nos",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=True),
        sa.Column("warehouse", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("batch_no", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_serial_nos")),
    )
    op.create_index(op.f("ix_serial_nos_item_code"), "serial_nos", ["item_code"])
    op.create_table(
        "batches",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_batches")),
    )
    op.create_index(op.f("ix_batches_item"), "batches", ["item"])


def downgrade() -> None:
    op.drop_index(op.f("ix_batches_item"), table_name="batches")
    op.drop_table("batches")
    op.drop_index(op.f("ix_serial_nos_item_code"), table_name="serial_nos")
    op.drop_table("serial_nos")
    op.drop_table("sales_persons")

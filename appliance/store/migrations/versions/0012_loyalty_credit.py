"""Loyalty: Loyalty Programs, Loyalty Point Entries, the customer's program, and what each sale
redeemed and earned. Store credit: the pulled payment rows of the store-credit modes.

Revision ID: 0012_loyalty_credit
Revises: 0011_serial_uom
Create Date: 2026-12-07 20:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_loyalty_credit"
down_revision: str | None = "0011_serial_uom"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("loyalty_program", sa.String(), nullable=True))
    with op.batch_alter_table("pos_invoices") as batch:
        batch.add_column(sa.Column("loyalty_program", sa.String(), nullable=True))
        batch.add_column(
            sa.Column("loyalty_points", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("loyalty_amount", sa.String(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("loyalty_earned", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "loyalty_programs",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("conversion_factor", sa.String(), nullable=True),
        sa.Column("expiry_duration", sa.Integer(), nullable=True),
        sa.Column("expense_account", sa.String(), nullable=True),
        sa.Column("cost_center", sa.String(), nullable=True),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_loyalty_programs")),
    )
    op.create_table(
        "loyalty_program_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("tier_name", sa.String(), nullable=True),
        sa.Column("min_spent", sa.String(), nullable=True),
        sa.Column("collection_factor", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["loyalty_programs.name"],
            name=op.f("fk_loyalty_program_collections_parent_loyalty_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_program_collections")),
    )
    op.create_index(
        op.f("ix_loyalty_program_collections_parent"), "loyalty_program_collections", ["parent"]
    )
    op.create_table(
        "loyalty_point_entries",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("customer", sa.String(), nullable=False),
        sa.Column("loyalty_program", sa.String(), nullable=True),
        sa.Column("loyalty_points", sa.Integer(), nullable=True),
        sa.Column("purchase_amount", sa.String(), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("invoice_type", sa.String(), nullable=True),
        sa.Column("invoice", sa.String(), nullable=True),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_loyalty_point_entries")),
    )
    op.create_index(
        op.f("ix_loyalty_point_entries_customer"), "loyalty_point_entries", ["customer"]
    )
    op.create_index(op.f("ix_loyalty_point_entries_invoice"), "loyalty_point_entries", ["invoice"])
    op.create_table(
        "store_credit_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_type", sa.String(), nullable=False),
        sa.Column("invoice", sa.String(), nullable=False),
        sa.Column("customer", sa.String(), nullable=False),
        sa.Column("mode_of_payment", sa.String(), nullable=False),
        sa.Column("amount", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_credit_rows")),
    )
    op.create_index(op.f("ix_store_credit_rows_invoice"), "store_credit_rows", ["invoice"])
    op.create_index(op.f("ix_store_credit_rows_customer"), "store_credit_rows", ["customer"])


def downgrade() -> None:
    op.drop_index(op.f("ix_store_credit_rows_customer"), table_name="store_credit_rows")
    op.drop_index(op.f("ix_store_credit_rows_invoice"), table_name="store_credit_rows")
    op.drop_table("store_credit_rows")
    op.drop_index(op.f("ix_loyalty_point_entries_invoice"), table_name="loyalty_point_entries")
    op.drop_index(op.f("ix_loyalty_point_entries_customer"), table_name="loyalty_point_entries")
    op.drop_table("loyalty_point_entries")
    op.drop_index(
        op.f("ix_loyalty_program_collections_parent"), table_name="loyalty_program_collections"
    )
    op.drop_table("loyalty_program_collections")
    op.drop_table("loyalty_programs")
    with op.batch_alter_table("pos_invoices") as batch:
        for name in ("loyalty_earned", "loyalty_amount", "loyalty_points", "loyalty_program"):
            batch.drop_column(name)
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("loyalty_program")

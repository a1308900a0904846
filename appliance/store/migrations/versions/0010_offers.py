"""Offers: free-item (product discount) fields on Pricing Rule and the Coupon Code doctype.

Revision ID: 0010_offers
Revises: 0009_whole_units
Create Date: 2026-12-07 16:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_offers"
down_revision: str | None = "0009_whole_units"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FREE_ITEM_COLUMNS = (
    ("free_item", sa.String(), True),
    ("free_qty", sa.String(), True),
    ("same_item", sa.Boolean(), False),
    ("free_item_rate", sa.String(), True),
    ("free_item_uom", sa.String(), True),
    ("is_recursive", sa.Boolean(), False),
    ("recurse_for", sa.String(), True),
    ("apply_recursion_over", sa.String(), True),
    ("round_free_qty", sa.Boolean(), False),
)


def upgrade() -> None:
    with op.batch_alter_table("pricing_rules") as batch:
        for name, type_, nullable in _FREE_ITEM_COLUMNS:
            batch.add_column(
                sa.Column(
                    name,
                    type_,
                    nullable=nullable,
                    server_default=None if nullable else sa.false(),
                )
            )
    op.create_table(
        "coupon_codes",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("coupon_code", sa.String(), nullable=True),
        sa.Column("coupon_type", sa.String(), nullable=True),
        sa.Column("pricing_rule", sa.String(), nullable=True),
        sa.Column("maximum_use", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_upto", sa.Date(), nullable=True),
        sa.Column("creation", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_coupon_codes")),
    )
    op.create_index(op.f("ix_coupon_codes_coupon_code"), "coupon_codes", ["coupon_code"])
    op.create_index(op.f("ix_coupon_codes_pricing_rule"), "coupon_codes", ["pricing_rule"])


def downgrade() -> None:
    op.drop_index(op.f("ix_coupon_codes_pricing_rule"), table_name="coupon_codes")
    op.drop_index(op.f("ix_coupon_codes_coupon_code"), table_name="coupon_codes")
    op.drop_table("coupon_codes")
    with op.batch_alter_table("pricing_rules") as batch:
        for name, _type, _nullable in reversed(_FREE_ITEM_COLUMNS):
            batch.drop_column(name)

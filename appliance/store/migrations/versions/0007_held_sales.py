"""Held (parked) sales in the store: a restart, a crash or a shut-down no longer loses them.

Revision ID: 0007_held_sales
Revises: 0006
Create Date: 2026-12-07 13:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_held_sales"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offline_id", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("held_at", sa.String(), nullable=False),
        sa.Column("cashier", sa.String(), nullable=False),
        sa.Column("cart", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_sales")),
        sa.UniqueConstraint("offline_id", name=op.f("uq_held_sales_offline_id")),
    )


def downgrade() -> None:
    op.drop_table("held_sales")

"""Sales Persons, so a sale names one ERPNext has (issue 19 item 7).

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


def downgrade() -> None:
    op.drop_table("sales_persons")

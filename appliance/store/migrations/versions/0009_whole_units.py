"""Units of measure and their "must be whole number" flag, pulled from ERPNext.

Revision ID: 0009_whole_units
Revises: 0008_site_country
Create Date: 2026-12-07 16:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_whole_units"
down_revision: str | None = "0008_site_country"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units_of_measure",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("must_be_whole_number", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_units_of_measure")),
    )


def downgrade() -> None:
    op.drop_table("units_of_measure")

"""Which ERPNext the till computes totals for (15 or 16: they spread a discount differently).

The agent records the major version its server reports; until it has, 15's rules apply.

Revision ID: 0006
Revises: 0005_short_term_search
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005_short_term_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("totals_settings") as batch:
        batch.add_column(
            sa.Column("erpnext_version", sa.Integer(), nullable=False, server_default="15")
        )


def downgrade() -> None:
    with op.batch_alter_table("totals_settings") as batch:
        batch.drop_column("erpnext_version")

"""The site's country (System Settings ``country``): the country a customer made at the till is
addressed in when the store's Tax Rules do not name one.

Revision ID: 0008_site_country
Revises: 0007_held_sales
Create Date: 2026-12-07 16:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_site_country"
down_revision: str | None = "0007_held_sales"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("totals_settings") as batch:
        batch.add_column(sa.Column("country", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("totals_settings") as batch:
        batch.drop_column("country")

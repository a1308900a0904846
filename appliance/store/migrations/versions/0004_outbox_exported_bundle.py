"""Which USB bundle carried an outbox entry that had not reached ERPNext yet.

Exporting does not make a document synced (ERPNext has not got it), so the entry stays READY;
``exported_bundle`` lets the till and ``appliance status`` say it is on its way by hand.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place, batch mode copies nothing.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("exported_bundle", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("exported_bundle")

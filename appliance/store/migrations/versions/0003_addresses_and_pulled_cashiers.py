"""Customer Addresses (with their Dynamic Links) and which POS Profile a cashier came from.

The pull brings ERPNext's Address documents so a customer's billing province (and the
Address's tax category) reaches the Tax Rule matching; ``cashiers.pos_profile`` marks cashiers
pulled from a POS Profile's user rows, the only ones a later pull may change or remove.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("address_type", sa.String(), nullable=True),
        sa.Column("city", sa.String(), nullable=True),
        sa.Column("county", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=True),
        sa.Column("pincode", sa.String(), nullable=True),
        sa.Column("country", sa.String(), nullable=True),
        sa.Column("tax_category", sa.String(), nullable=True),
        sa.Column("is_primary_address", sa.Boolean(), nullable=False),
        sa.Column("is_shipping_address", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_addresses")),
    )
    op.create_table(
        "address_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("link_doctype", sa.String(), nullable=False),
        sa.Column("link_name", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["addresses.name"],
            name=op.f("fk_address_links_parent_addresses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_links")),
    )
    with op.batch_alter_table("address_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_links_parent"), ["parent"], unique=False)
        batch_op.create_index(batch_op.f("ix_address_links_link_name"), ["link_name"], unique=False)
    # A plain ADD COLUMN: no table copy.
    op.add_column("cashiers", sa.Column("pos_profile", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cashiers", schema=None) as batch_op:
        batch_op.drop_column("pos_profile")
    with op.batch_alter_table("address_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_links_link_name"))
        batch_op.drop_index(batch_op.f("ix_address_links_parent"))
    op.drop_table("address_links")
    op.drop_table("addresses")

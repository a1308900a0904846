"""Initial schema: masters, shifts, sales, outbox, journal, sync state.

Written to match appliance.store.models; money columns (DecimalText) and UTC timestamps
(UtcDateTime) are text, spelled here as their plain String implementation so this
revision never changes when the Python types do.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:01:11.092054
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cashiers",
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("full_name", sa.String(), nullable=False),
        sa.Column("pin_hash", sa.String(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "cashier",
                "supervisor",
                "manager",
                name="cashier_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("max_discount_percentage", sa.String(), nullable=True),
        sa.Column("max_return_amount", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("user", name=op.f("pk_cashiers")),
    )
    op.create_table(
        "customer_groups",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("parent_customer_group", sa.String(), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("default_price_list", sa.String(), nullable=True),
        sa.Column("lft", sa.Integer(), nullable=True),
        sa.Column("rgt", sa.Integer(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_customer_groups")),
    )
    with op.batch_alter_table("customer_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_groups_parent_customer_group"),
            ["parent_customer_group"],
            unique=False,
        )

    op.create_table(
        "customers",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("customer_name", sa.String(collation="NOCASE"), nullable=False),
        sa.Column("customer_type", sa.String(), nullable=True),
        sa.Column("customer_group", sa.String(), nullable=True),
        sa.Column("territory", sa.String(), nullable=True),
        sa.Column("tax_category", sa.String(), nullable=True),
        sa.Column("tax_id", sa.String(), nullable=True),
        sa.Column("default_price_list", sa.String(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("mobile_no", sa.String(), nullable=True),
        sa.Column("email_id", sa.String(), nullable=True),
        sa.Column("billing_city", sa.String(), nullable=True),
        sa.Column("billing_county", sa.String(), nullable=True),
        sa.Column("billing_state", sa.String(), nullable=True),
        sa.Column("billing_zipcode", sa.String(), nullable=True),
        sa.Column("billing_country", sa.String(), nullable=True),
        sa.Column("shipping_city", sa.String(), nullable=True),
        sa.Column("shipping_county", sa.String(), nullable=True),
        sa.Column("shipping_state", sa.String(), nullable=True),
        sa.Column("shipping_zipcode", sa.String(), nullable=True),
        sa.Column("shipping_country", sa.String(), nullable=True),
        sa.Column("address_tax_category", sa.String(), nullable=True),
        sa.Column("offline_id", sa.String(), nullable=True),
        sa.Column(
            "sync_state",
            sa.Enum(
                "SYNCED",
                "PENDING",
                name="customer_sync_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_customers")),
        sa.UniqueConstraint("offline_id", name=op.f("uq_customers_offline_id")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_customer_group"), ["customer_group"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_customers_customer_name"), ["customer_name"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_mobile_no"), ["mobile_no"], unique=False)

    op.create_table(
        "item_groups",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("parent_item_group", sa.String(), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("lft", sa.Integer(), nullable=True),
        sa.Column("rgt", sa.Integer(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_item_groups")),
    )
    with op.batch_alter_table("item_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_groups_parent_item_group"), ["parent_item_group"], unique=False
        )

    op.create_table(
        "item_prices",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=False),
        sa.Column("price_list", sa.String(), nullable=False),
        sa.Column("uom", sa.String(), nullable=True),
        sa.Column("price_list_rate", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("customer", sa.String(), nullable=True),
        sa.Column("batch_no", sa.String(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_upto", sa.Date(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_item_prices")),
    )
    with op.batch_alter_table("item_prices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_prices_item_code_price_list", ["item_code", "price_list"], unique=False
        )

    op.create_table(
        "item_tax_templates",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_item_tax_templates")),
    )
    op.create_table(
        "items",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=False),
        sa.Column("item_name", sa.String(collation="NOCASE"), nullable=False),
        sa.Column("item_group", sa.String(), nullable=False),
        sa.Column("brand", sa.String(), nullable=True),
        sa.Column("stock_uom", sa.String(), nullable=False),
        sa.Column("sales_uom", sa.String(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_stock_item", sa.Boolean(), nullable=False),
        sa.Column("is_sales_item", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("has_variants", sa.Boolean(), nullable=False),
        sa.Column("variant_of", sa.String(), nullable=True),
        sa.Column("has_batch_no", sa.Boolean(), nullable=False),
        sa.Column("has_serial_no", sa.Boolean(), nullable=False),
        sa.Column("is_weighed", sa.Boolean(), nullable=False),
        sa.Column("max_discount", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_items")),
        sa.UniqueConstraint("item_code", name=op.f("uq_items_item_code")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_brand"), ["brand"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_item_group"), ["item_group"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_item_name"), ["item_name"], unique=False)

    op.create_table(
        "journal",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal")),
        sa.UniqueConstraint("hash", name=op.f("uq_journal_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_ref"), ["ref"], unique=False)

    op.create_table(
        "modes_of_payment",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_modes_of_payment")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctype", sa.String(), nullable=False),
        sa.Column("offline_id", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "READY",
                "IN_FLIGHT",
                "DONE",
                "QUARANTINED",
                name="outbox_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("erpnext_name", sa.String(), nullable=True),
        sa.Column("next_attempt_at", sa.String(), nullable=True),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.Column("updated_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("doctype", "offline_id", name=op.f("uq_outbox_doctype_offline_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_offline_id"), ["offline_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_state"), ["state"], unique=False)

    op.create_table(
        "pos_opening_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offline_id", sa.String(), nullable=False),
        sa.Column("pos_profile", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("period_start_date", sa.DateTime(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "Draft",
                "Open",
                "Closed",
                "Cancelled",
                name="shift_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_opening_entries")),
        sa.UniqueConstraint("offline_id", name=op.f("uq_pos_opening_entries_offline_id")),
    )
    with op.batch_alter_table("pos_opening_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_opening_entries_pos_profile"), ["pos_profile"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pos_opening_entries_status"), ["status"], unique=False)

    op.create_table(
        "pos_profiles",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("customer", sa.String(), nullable=True),
        sa.Column("warehouse", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("selling_price_list", sa.String(), nullable=True),
        sa.Column("taxes_and_charges", sa.String(), nullable=True),
        sa.Column("tax_category", sa.String(), nullable=True),
        sa.Column("apply_discount_on", sa.String(), nullable=False),
        sa.Column("write_off_account", sa.String(), nullable=True),
        sa.Column("write_off_cost_center", sa.String(), nullable=True),
        sa.Column("write_off_limit", sa.String(), nullable=True),
        sa.Column("account_for_change_amount", sa.String(), nullable=True),
        sa.Column("cost_center", sa.String(), nullable=True),
        sa.Column("income_account", sa.String(), nullable=True),
        sa.Column("allow_rate_change", sa.Boolean(), nullable=False),
        sa.Column("allow_discount_change", sa.Boolean(), nullable=False),
        sa.Column("allow_partial_payment", sa.Boolean(), nullable=False),
        sa.Column("ignore_pricing_rule", sa.Boolean(), nullable=False),
        sa.Column("disable_rounded_total", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pos_profiles")),
    )
    op.create_table(
        "price_lists",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("selling", sa.Boolean(), nullable=False),
        sa.Column("buying", sa.Boolean(), nullable=False),
        sa.Column("price_not_uom_dependent", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_price_lists")),
    )
    op.create_table(
        "pricing_rules",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("disable", sa.Boolean(), nullable=False),
        sa.Column("apply_on", sa.String(), nullable=False),
        sa.Column("price_or_product_discount", sa.String(), nullable=False),
        sa.Column("selling", sa.Boolean(), nullable=False),
        sa.Column("buying", sa.Boolean(), nullable=False),
        sa.Column("applicable_for", sa.String(), nullable=True),
        sa.Column("customer", sa.String(), nullable=True),
        sa.Column("customer_group", sa.String(), nullable=True),
        sa.Column("territory", sa.String(), nullable=True),
        sa.Column("sales_partner", sa.String(), nullable=True),
        sa.Column("campaign", sa.String(), nullable=True),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("for_price_list", sa.String(), nullable=True),
        sa.Column("warehouse", sa.String(), nullable=True),
        sa.Column("min_qty", sa.String(), nullable=True),
        sa.Column("max_qty", sa.String(), nullable=True),
        sa.Column("min_amt", sa.String(), nullable=True),
        sa.Column("max_amt", sa.String(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_upto", sa.Date(), nullable=True),
        sa.Column("rate_or_discount", sa.String(), nullable=True),
        sa.Column("rate", sa.String(), nullable=True),
        sa.Column("discount_percentage", sa.String(), nullable=True),
        sa.Column("discount_amount", sa.String(), nullable=True),
        sa.Column("margin_type", sa.String(), nullable=True),
        sa.Column("margin_rate_or_amount", sa.String(), nullable=True),
        sa.Column("apply_discount_on", sa.String(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("apply_multiple_pricing_rules", sa.Boolean(), nullable=False),
        sa.Column("has_priority", sa.Boolean(), nullable=False),
        sa.Column("apply_discount_on_rate", sa.Boolean(), nullable=False),
        sa.Column("mixed_conditions", sa.Boolean(), nullable=False),
        sa.Column("is_cumulative", sa.Boolean(), nullable=False),
        sa.Column("coupon_code_based", sa.Boolean(), nullable=False),
        sa.Column("validate_applied_rule", sa.Boolean(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pricing_rules")),
    )
    with op.batch_alter_table("pricing_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pricing_rules_apply_on"), ["apply_on"], unique=False)

    op.create_table(
        "receipt_counters",
        sa.Column("terminal_id", sa.String(), nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_receipt_counters")),
    )
    op.create_table(
        "sales_taxes_templates",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("tax_category", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sales_taxes_templates")),
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "tax_categories",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tax_categories")),
    )
    op.create_table(
        "tax_rules",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tax_type", sa.String(), nullable=False),
        sa.Column("sales_tax_template", sa.String(), nullable=True),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("customer", sa.String(), nullable=True),
        sa.Column("customer_group", sa.String(), nullable=True),
        sa.Column("tax_category", sa.String(), nullable=True),
        sa.Column("billing_city", sa.String(), nullable=True),
        sa.Column("billing_county", sa.String(), nullable=True),
        sa.Column("billing_state", sa.String(), nullable=True),
        sa.Column("billing_zipcode", sa.String(), nullable=True),
        sa.Column("billing_country", sa.String(), nullable=True),
        sa.Column("shipping_city", sa.String(), nullable=True),
        sa.Column("shipping_county", sa.String(), nullable=True),
        sa.Column("shipping_state", sa.String(), nullable=True),
        sa.Column("shipping_zipcode", sa.String(), nullable=True),
        sa.Column("shipping_country", sa.String(), nullable=True),
        sa.Column("use_for_shopping_cart", sa.Boolean(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tax_rules")),
    )
    op.create_table(
        "territories",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("parent_territory", sa.String(), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("lft", sa.Integer(), nullable=True),
        sa.Column("rgt", sa.Integer(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_territories")),
    )
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_territories_parent_territory"), ["parent_territory"], unique=False
        )

    op.create_table(
        "totals_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("currency_precision", sa.Integer(), nullable=False),
        sa.Column("float_precision", sa.Integer(), nullable=False),
        sa.Column(
            "rounding_method",
            sa.Enum(
                "Banker's Rounding (legacy)",
                "Banker's Rounding",
                "Commercial Rounding",
                name="rounding_method",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("disable_rounded_total", sa.Boolean(), nullable=False),
        sa.Column("smallest_currency_fraction_value", sa.String(), nullable=False),
        sa.Column("number_format", sa.String(), nullable=True),
        sa.Column("time_zone", sa.String(), nullable=True),
        sa.Column("modified", sa.String(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_totals_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totals_settings")),
    )
    op.create_table(
        "item_barcodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("barcode", sa.String(), nullable=False),
        sa.Column("barcode_type", sa.String(), nullable=True),
        sa.Column("uom", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["items.name"],
            name=op.f("fk_item_barcodes_parent_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_barcodes")),
        sa.UniqueConstraint("barcode", name=op.f("uq_item_barcodes_barcode")),
    )
    with op.batch_alter_table("item_barcodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_barcodes_parent"), ["parent"], unique=False)

    op.create_table(
        "item_group_taxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("item_tax_template", sa.String(), nullable=False),
        sa.Column("tax_category", sa.String(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("minimum_net_rate", sa.String(), nullable=True),
        sa.Column("maximum_net_rate", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["item_groups.name"],
            name=op.f("fk_item_group_taxes_parent_item_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_group_taxes")),
    )
    with op.batch_alter_table("item_group_taxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_group_taxes_parent"), ["parent"], unique=False)

    op.create_table(
        "item_tax_template_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("tax_type", sa.String(), nullable=False),
        sa.Column("tax_rate", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["item_tax_templates.name"],
            name=op.f("fk_item_tax_template_rows_parent_item_tax_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_tax_template_rows")),
    )
    with op.batch_alter_table("item_tax_template_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_tax_template_rows_parent"), ["parent"], unique=False
        )

    op.create_table(
        "item_taxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("item_tax_template", sa.String(), nullable=False),
        sa.Column("tax_category", sa.String(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("minimum_net_rate", sa.String(), nullable=True),
        sa.Column("maximum_net_rate", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"], ["items.name"], name=op.f("fk_item_taxes_parent_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_taxes")),
    )
    with op.batch_alter_table("item_taxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_taxes_parent"), ["parent"], unique=False)

    op.create_table(
        "mode_of_payment_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=False),
        sa.Column("default_account", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["modes_of_payment.name"],
            name=op.f("fk_mode_of_payment_accounts_parent_modes_of_payment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mode_of_payment_accounts")),
    )
    with op.batch_alter_table("mode_of_payment_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mode_of_payment_accounts_parent"), ["parent"], unique=False
        )

    op.create_table(
        "outbox_dependencies",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("depends_on_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "entry_id != depends_on_id", name=op.f("ck_outbox_dependencies_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["depends_on_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_dependencies_depends_on_id_outbox"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_dependencies_entry_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "depends_on_id", name=op.f("pk_outbox_dependencies")),
    )
    with op.batch_alter_table("outbox_dependencies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_dependencies_depends_on_id"), ["depends_on_id"], unique=False
        )

    op.create_table(
        "pos_closing_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offline_id", sa.String(), nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("period_end_date", sa.DateTime(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("posting_time", sa.Time(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opening_id"],
            ["pos_opening_entries.id"],
            name=op.f("fk_pos_closing_entries_opening_id_pos_opening_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_closing_entries")),
        sa.UniqueConstraint("offline_id", name=op.f("uq_pos_closing_entries_offline_id")),
        sa.UniqueConstraint("opening_id", name=op.f("uq_pos_closing_entries_opening_id")),
    )
    op.create_table(
        "pos_customer_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("customer_group", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["pos_profiles.name"],
            name=op.f("fk_pos_customer_groups_parent_pos_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_customer_groups")),
    )
    with op.batch_alter_table("pos_customer_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_customer_groups_parent"), ["parent"], unique=False)

    op.create_table(
        "pos_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offline_id", sa.String(), nullable=False),
        sa.Column("receipt_no", sa.String(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("pos_profile", sa.String(), nullable=False),
        sa.Column("customer", sa.String(), nullable=False),
        sa.Column("cashier", sa.String(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("posting_time", sa.Time(), nullable=False),
        sa.Column("is_return", sa.Boolean(), nullable=False),
        sa.Column("return_against_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "Paid",
                "Return",
                "Consolidated",
                name="sale_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("total_qty", sa.String(), nullable=False),
        sa.Column("total", sa.String(), nullable=False),
        sa.Column("net_total", sa.String(), nullable=False),
        sa.Column("total_taxes_and_charges", sa.String(), nullable=False),
        sa.Column("discount_amount", sa.String(), nullable=False),
        sa.Column("additional_discount_percentage", sa.String(), nullable=False),
        sa.Column("apply_discount_on", sa.String(), nullable=False),
        sa.Column("grand_total", sa.String(), nullable=False),
        sa.Column("rounding_adjustment", sa.String(), nullable=False),
        sa.Column("rounded_total", sa.String(), nullable=False),
        sa.Column("paid_amount", sa.String(), nullable=False),
        sa.Column("change_amount", sa.String(), nullable=False),
        sa.Column("write_off_amount", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_against_id"],
            ["pos_invoices.id"],
            name=op.f("fk_pos_invoices_return_against_id_pos_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["pos_opening_entries.id"],
            name=op.f("fk_pos_invoices_shift_id_pos_opening_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_invoices")),
        sa.UniqueConstraint("offline_id", name=op.f("uq_pos_invoices_offline_id")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_pos_invoices_receipt_no")),
    )
    with op.batch_alter_table("pos_invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_invoices_customer"), ["customer"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pos_invoices_posting_date"), ["posting_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pos_invoices_return_against_id"), ["return_against_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pos_invoices_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "pos_item_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("item_group", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["pos_profiles.name"],
            name=op.f("fk_pos_item_groups_parent_pos_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_item_groups")),
    )
    with op.batch_alter_table("pos_item_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_item_groups_parent"), ["parent"], unique=False)

    op.create_table(
        "pos_opening_entry_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("mode_of_payment", sa.String(), nullable=False),
        sa.Column("opening_amount", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opening_id"],
            ["pos_opening_entries.id"],
            name=op.f("fk_pos_opening_entry_details_opening_id_pos_opening_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_opening_entry_details")),
    )
    with op.batch_alter_table("pos_opening_entry_details", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_opening_entry_details_opening_id"), ["opening_id"], unique=False
        )

    op.create_table(
        "pos_payment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("mode_of_payment", sa.String(), nullable=False),
        sa.Column("default", sa.Boolean(), nullable=False),
        sa.Column("allow_in_returns", sa.Boolean(), nullable=False),
        sa.Column("account", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["pos_profiles.name"],
            name=op.f("fk_pos_payment_methods_parent_pos_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_payment_methods")),
    )
    with op.batch_alter_table("pos_payment_methods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_payment_methods_parent"), ["parent"], unique=False)

    op.create_table(
        "pos_profile_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["pos_profiles.name"],
            name=op.f("fk_pos_profile_users_parent_pos_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_profile_users")),
    )
    with op.batch_alter_table("pos_profile_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_profile_users_parent"), ["parent"], unique=False)

    op.create_table(
        "pricing_rule_brands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("brand", sa.String(), nullable=False),
        sa.Column("uom", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["pricing_rules.name"],
            name=op.f("fk_pricing_rule_brands_parent_pricing_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_rule_brands")),
    )
    with op.batch_alter_table("pricing_rule_brands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pricing_rule_brands_brand"), ["brand"], unique=False)
        batch_op.create_index(batch_op.f("ix_pricing_rule_brands_parent"), ["parent"], unique=False)

    op.create_table(
        "pricing_rule_item_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=False),
        sa.Column("uom", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["pricing_rules.name"],
            name=op.f("fk_pricing_rule_item_codes_parent_pricing_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_rule_item_codes")),
    )
    with op.batch_alter_table("pricing_rule_item_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pricing_rule_item_codes_item_code"), ["item_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pricing_rule_item_codes_parent"), ["parent"], unique=False
        )

    op.create_table(
        "pricing_rule_item_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("item_group", sa.String(), nullable=False),
        sa.Column("uom", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["pricing_rules.name"],
            name=op.f("fk_pricing_rule_item_groups_parent_pricing_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_rule_item_groups")),
    )
    with op.batch_alter_table("pricing_rule_item_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pricing_rule_item_groups_item_group"), ["item_group"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pricing_rule_item_groups_parent"), ["parent"], unique=False
        )

    op.create_table(
        "sales_taxes_template_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("charge_type", sa.String(), nullable=False),
        sa.Column("account_head", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("rate", sa.String(), nullable=True),
        sa.Column("tax_amount", sa.String(), nullable=True),
        sa.Column("row_id", sa.Integer(), nullable=True),
        sa.Column("included_in_print_rate", sa.Boolean(), nullable=False),
        sa.Column("cost_center", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["sales_taxes_templates.name"],
            name=op.f("fk_sales_taxes_template_rows_parent_sales_taxes_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_taxes_template_rows")),
    )
    with op.batch_alter_table("sales_taxes_template_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_taxes_template_rows_parent"), ["parent"], unique=False
        )

    op.create_table(
        "uom_conversion_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("conversion_factor", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["items.name"],
            name=op.f("fk_uom_conversion_details_parent_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uom_conversion_details")),
    )
    with op.batch_alter_table("uom_conversion_details", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_uom_conversion_details_parent"), ["parent"], unique=False
        )

    op.create_table(
        "pos_closing_entry_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("closing_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("mode_of_payment", sa.String(), nullable=False),
        sa.Column("opening_amount", sa.String(), nullable=False),
        sa.Column("expected_amount", sa.String(), nullable=False),
        sa.Column("closing_amount", sa.String(), nullable=False),
        sa.Column("difference", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closing_id"],
            ["pos_closing_entries.id"],
            name=op.f("fk_pos_closing_entry_details_closing_id_pos_closing_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_closing_entry_details")),
    )
    with op.batch_alter_table("pos_closing_entry_details", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_closing_entry_details_closing_id"), ["closing_id"], unique=False
        )

    op.create_table(
        "pos_invoice_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=False),
        sa.Column("item_name", sa.String(), nullable=False),
        sa.Column("qty", sa.String(), nullable=False),
        sa.Column("uom", sa.String(), nullable=False),
        sa.Column("conversion_factor", sa.String(), nullable=False),
        sa.Column("price_list_rate", sa.String(), nullable=False),
        sa.Column("discount_percentage", sa.String(), nullable=False),
        sa.Column("discount_amount", sa.String(), nullable=False),
        sa.Column("rate", sa.String(), nullable=False),
        sa.Column("amount", sa.String(), nullable=False),
        sa.Column("net_rate", sa.String(), nullable=False),
        sa.Column("net_amount", sa.String(), nullable=False),
        sa.Column("distributed_discount_amount", sa.String(), nullable=False),
        sa.Column("item_tax_template", sa.String(), nullable=True),
        sa.Column("item_tax_rate", sa.Text(), nullable=False),
        sa.Column("original_item_id", sa.Integer(), nullable=True),
        sa.Column("pos_invoice_item", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["pos_invoices.id"],
            name=op.f("fk_pos_invoice_items_invoice_id_pos_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["original_item_id"],
            ["pos_invoice_items.id"],
            name=op.f("fk_pos_invoice_items_original_item_id_pos_invoice_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_invoice_items")),
    )
    with op.batch_alter_table("pos_invoice_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_invoice_items_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pos_invoice_items_item_code"), ["item_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pos_invoice_items_original_item_id"), ["original_item_id"], unique=False
        )

    op.create_table(
        "pos_invoice_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("mode_of_payment", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("account", sa.String(), nullable=True),
        sa.Column("amount", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["pos_invoices.id"],
            name=op.f("fk_pos_invoice_payments_invoice_id_pos_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_invoice_payments")),
    )
    with op.batch_alter_table("pos_invoice_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_invoice_payments_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "pos_invoice_taxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("charge_type", sa.String(), nullable=False),
        sa.Column("account_head", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rate", sa.String(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=True),
        sa.Column("included_in_print_rate", sa.Boolean(), nullable=False),
        sa.Column("cost_center", sa.String(), nullable=True),
        sa.Column("tax_amount", sa.String(), nullable=False),
        sa.Column("tax_amount_after_discount_amount", sa.String(), nullable=False),
        sa.Column("total", sa.String(), nullable=False),
        sa.Column("item_wise_tax_detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["pos_invoices.id"],
            name=op.f("fk_pos_invoice_taxes_invoice_id_pos_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_invoice_taxes")),
    )
    with op.batch_alter_table("pos_invoice_taxes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_invoice_taxes_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pos_invoice_taxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_invoice_taxes_invoice_id"))

    op.drop_table("pos_invoice_taxes")
    with op.batch_alter_table("pos_invoice_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_invoice_payments_invoice_id"))

    op.drop_table("pos_invoice_payments")
    with op.batch_alter_table("pos_invoice_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_invoice_items_original_item_id"))
        batch_op.drop_index(batch_op.f("ix_pos_invoice_items_item_code"))
        batch_op.drop_index(batch_op.f("ix_pos_invoice_items_invoice_id"))

    op.drop_table("pos_invoice_items")
    with op.batch_alter_table("pos_closing_entry_details", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_closing_entry_details_closing_id"))

    op.drop_table("pos_closing_entry_details")
    with op.batch_alter_table("uom_conversion_details", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uom_conversion_details_parent"))

    op.drop_table("uom_conversion_details")
    with op.batch_alter_table("sales_taxes_template_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_taxes_template_rows_parent"))

    op.drop_table("sales_taxes_template_rows")
    with op.batch_alter_table("pricing_rule_item_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_rule_item_groups_parent"))
        batch_op.drop_index(batch_op.f("ix_pricing_rule_item_groups_item_group"))

    op.drop_table("pricing_rule_item_groups")
    with op.batch_alter_table("pricing_rule_item_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_rule_item_codes_parent"))
        batch_op.drop_index(batch_op.f("ix_pricing_rule_item_codes_item_code"))

    op.drop_table("pricing_rule_item_codes")
    with op.batch_alter_table("pricing_rule_brands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_rule_brands_parent"))
        batch_op.drop_index(batch_op.f("ix_pricing_rule_brands_brand"))

    op.drop_table("pricing_rule_brands")
    with op.batch_alter_table("pos_profile_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_profile_users_parent"))

    op.drop_table("pos_profile_users")
    with op.batch_alter_table("pos_payment_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_payment_methods_parent"))

    op.drop_table("pos_payment_methods")
    with op.batch_alter_table("pos_opening_entry_details", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_opening_entry_details_opening_id"))

    op.drop_table("pos_opening_entry_details")
    with op.batch_alter_table("pos_item_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_item_groups_parent"))

    op.drop_table("pos_item_groups")
    with op.batch_alter_table("pos_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_invoices_shift_id"))
        batch_op.drop_index(batch_op.f("ix_pos_invoices_return_against_id"))
        batch_op.drop_index(batch_op.f("ix_pos_invoices_posting_date"))
        batch_op.drop_index(batch_op.f("ix_pos_invoices_customer"))

    op.drop_table("pos_invoices")
    with op.batch_alter_table("pos_customer_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_customer_groups_parent"))

    op.drop_table("pos_customer_groups")
    op.drop_table("pos_closing_entries")
    with op.batch_alter_table("outbox_dependencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_dependencies_depends_on_id"))

    op.drop_table("outbox_dependencies")
    with op.batch_alter_table("mode_of_payment_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mode_of_payment_accounts_parent"))

    op.drop_table("mode_of_payment_accounts")
    with op.batch_alter_table("item_taxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_taxes_parent"))

    op.drop_table("item_taxes")
    with op.batch_alter_table("item_tax_template_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_tax_template_rows_parent"))

    op.drop_table("item_tax_template_rows")
    with op.batch_alter_table("item_group_taxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_group_taxes_parent"))

    op.drop_table("item_group_taxes")
    with op.batch_alter_table("item_barcodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_barcodes_parent"))

    op.drop_table("item_barcodes")
    op.drop_table("totals_settings")
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_territories_parent_territory"))

    op.drop_table("territories")
    op.drop_table("tax_rules")
    op.drop_table("tax_categories")
    op.drop_table("sync_state")
    op.drop_table("sales_taxes_templates")
    op.drop_table("receipt_counters")
    with op.batch_alter_table("pricing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_rules_apply_on"))

    op.drop_table("pricing_rules")
    op.drop_table("price_lists")
    op.drop_table("pos_profiles")
    with op.batch_alter_table("pos_opening_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_opening_entries_status"))
        batch_op.drop_index(batch_op.f("ix_pos_opening_entries_pos_profile"))

    op.drop_table("pos_opening_entries")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_state"))
        batch_op.drop_index(batch_op.f("ix_outbox_offline_id"))

    op.drop_table("outbox")
    op.drop_table("modes_of_payment")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_ref"))
        batch_op.drop_index(batch_op.f("ix_journal_kind"))

    op.drop_table("journal")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_item_name"))
        batch_op.drop_index(batch_op.f("ix_items_item_group"))
        batch_op.drop_index(batch_op.f("ix_items_brand"))

    op.drop_table("items")
    op.drop_table("item_tax_templates")
    with op.batch_alter_table("item_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_item_prices_item_code_price_list")

    op.drop_table("item_prices")
    with op.batch_alter_table("item_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_groups_parent_item_group"))

    op.drop_table("item_groups")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_mobile_no"))
        batch_op.drop_index(batch_op.f("ix_customers_customer_name"))
        batch_op.drop_index(batch_op.f("ix_customers_customer_group"))

    op.drop_table("customers")
    with op.batch_alter_table("customer_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_groups_parent_customer_group"))

    op.drop_table("customer_groups")
    op.drop_table("cashiers")

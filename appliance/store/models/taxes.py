"""Tax masters: Tax Category, Sales Taxes and Charges Template, Item Tax Template, Tax Rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base


class TaxCategory(Base):
    __tablename__ = "tax_categories"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    modified: Mapped[str | None] = mapped_column(String)


class SalesTaxesTemplate(Base):
    """Sales Taxes and Charges Template."""

    __tablename__ = "sales_taxes_templates"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(String)
    company: Mapped[str] = mapped_column(String)
    is_default: Mapped[bool] = mapped_column(default=False)
    disabled: Mapped[bool] = mapped_column(default=False)
    tax_category: Mapped[str | None] = mapped_column(String)
    modified: Mapped[str | None] = mapped_column(String)

    taxes: Mapped[list[SalesTaxesTemplateRow]] = relationship(
        back_populates="template",
        cascade="all, delete-orphan",
        order_by="SalesTaxesTemplateRow.idx",
    )


class SalesTaxesTemplateRow(Base):
    """A Sales Taxes and Charges row of a template. ``row_id`` is 1-based, as in ERPNext."""

    __tablename__ = "sales_taxes_template_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("sales_taxes_templates.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(default=1)
    # ERPNext's Select values (appliance.sales.model.ChargeType); kept as text so a new option
    # pulled from the server is stored and then refused by the engine, not by a constraint.
    charge_type: Mapped[str] = mapped_column(String)
    account_head: Mapped[str] = mapped_column(String)
    description: Mapped[str | None] = mapped_column(Text)
    rate: Mapped[Decimal | None]
    tax_amount: Mapped[Decimal | None]
    row_id: Mapped[int | None]
    included_in_print_rate: Mapped[bool] = mapped_column(default=False)
    cost_center: Mapped[str | None] = mapped_column(String)

    template: Mapped[SalesTaxesTemplate] = relationship(back_populates="taxes")


class ItemTaxTemplate(Base):
    __tablename__ = "item_tax_templates"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(String)
    company: Mapped[str] = mapped_column(String)
    disabled: Mapped[bool] = mapped_column(default=False)
    modified: Mapped[str | None] = mapped_column(String)

    taxes: Mapped[list[ItemTaxTemplateRow]] = relationship(
        back_populates="template",
        cascade="all, delete-orphan",
        order_by="ItemTaxTemplateRow.idx",
    )


class ItemTaxTemplateRow(Base):
    """Item Tax Template Detail: the rate that replaces ``tax_type``'s rate for the item."""

    __tablename__ = "item_tax_template_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("item_tax_templates.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(default=1)
    tax_type: Mapped[str] = mapped_column(String)
    tax_rate: Mapped[Decimal]

    template: Mapped[ItemTaxTemplate] = relationship(back_populates="taxes")


class TaxRule(Base):
    """Tax Rule with every field ERPNext matches on (FACTS §3.8; item fields never match)."""

    __tablename__ = "tax_rules"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    tax_type: Mapped[str] = mapped_column(String, default="Sales")
    sales_tax_template: Mapped[str | None] = mapped_column(String)
    company: Mapped[str | None] = mapped_column(String)
    customer: Mapped[str | None] = mapped_column(String)
    customer_group: Mapped[str | None] = mapped_column(String)
    tax_category: Mapped[str | None] = mapped_column(String)
    billing_city: Mapped[str | None] = mapped_column(String)
    billing_county: Mapped[str | None] = mapped_column(String)
    billing_state: Mapped[str | None] = mapped_column(String)
    billing_zipcode: Mapped[str | None] = mapped_column(String)
    billing_country: Mapped[str | None] = mapped_column(String)
    shipping_city: Mapped[str | None] = mapped_column(String)
    shipping_county: Mapped[str | None] = mapped_column(String)
    shipping_state: Mapped[str | None] = mapped_column(String)
    shipping_zipcode: Mapped[str | None] = mapped_column(String)
    shipping_country: Mapped[str | None] = mapped_column(String)
    use_for_shopping_cart: Mapped[bool] = mapped_column(default=True)
    from_date: Mapped[date | None]
    to_date: Mapped[date | None]
    priority: Mapped[int] = mapped_column(default=1)
    modified: Mapped[str | None] = mapped_column(String)

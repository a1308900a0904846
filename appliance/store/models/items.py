"""Item masters mirrored from ERPNext: Item (+ barcodes, UOMs, item taxes), groups, prices.

``name`` is ERPNext's document name and ``modified`` its timestamp text, kept verbatim so the
agent can pull "changed since" and compare without reformatting. Links to other masters are
plain indexed strings, not foreign keys: masters arrive in any order and in chunks. Child rows
belong to their parent and go with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base


class Item(Base):
    __tablename__ = "items"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    item_code: Mapped[str] = mapped_column(String, unique=True)
    # NOCASE so a case-insensitive prefix search (LIKE 'abc%') can use the index.
    item_name: Mapped[str] = mapped_column(String(collation="NOCASE"), index=True)
    item_group: Mapped[str] = mapped_column(String, index=True)
    brand: Mapped[str | None] = mapped_column(String, index=True)
    stock_uom: Mapped[str] = mapped_column(String)
    sales_uom: Mapped[str | None] = mapped_column(String)
    description: Mapped[str | None] = mapped_column(Text)
    is_stock_item: Mapped[bool] = mapped_column(default=True)
    is_sales_item: Mapped[bool] = mapped_column(default=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    has_variants: Mapped[bool] = mapped_column(default=False)
    variant_of: Mapped[str | None] = mapped_column(String)
    has_batch_no: Mapped[bool] = mapped_column(default=False)
    has_serial_no: Mapped[bool] = mapped_column(default=False)
    # Sold by weight from the scale (or a price-embedded barcode); not an ERPNext standard field.
    is_weighed: Mapped[bool] = mapped_column(default=False)
    max_discount: Mapped[Decimal | None]
    modified: Mapped[str | None] = mapped_column(String)

    barcodes: Mapped[list[ItemBarcode]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemBarcode.idx"
    )
    uoms: Mapped[list[UomConversionDetail]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="UomConversionDetail.idx"
    )
    taxes: Mapped[list[ItemTax]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemTax.idx"
    )


class ItemBarcode(Base):
    __tablename__ = "item_barcodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(ForeignKey("items.name", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(default=1)
    # Globally unique in ERPNext too: a scan resolves to exactly one item.
    barcode: Mapped[str] = mapped_column(String, unique=True)
    barcode_type: Mapped[str | None] = mapped_column(String)
    uom: Mapped[str | None] = mapped_column(String)

    item: Mapped[Item] = relationship(back_populates="barcodes")


class UomConversionDetail(Base):
    __tablename__ = "uom_conversion_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(ForeignKey("items.name", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(default=1)
    uom: Mapped[str] = mapped_column(String)
    conversion_factor: Mapped[Decimal]

    item: Mapped[Item] = relationship(back_populates="uoms")


class Uom(Base):
    """A Unit of Measure. ``must_be_whole_number``: ERPNext refuses a fraction of it on a sale
    (``validate_uom_is_integer``), so the till refuses it at the counter first."""

    __tablename__ = "units_of_measure"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    must_be_whole_number: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    modified: Mapped[str | None] = mapped_column(String)


class ItemTax(Base):
    """An Item's ``taxes`` row: which Item Tax Template applies, by category, date and net rate."""

    __tablename__ = "item_taxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(ForeignKey("items.name", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(default=1)
    item_tax_template: Mapped[str] = mapped_column(String)
    tax_category: Mapped[str | None] = mapped_column(String)
    valid_from: Mapped[date | None]
    minimum_net_rate: Mapped[Decimal | None]
    maximum_net_rate: Mapped[Decimal | None]

    item: Mapped[Item] = relationship(back_populates="taxes")


class ItemGroup(Base):
    """Item Group tree node. ``lft``/``rgt`` are ERPNext's nested-set bounds when pulled."""

    __tablename__ = "item_groups"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    parent_item_group: Mapped[str | None] = mapped_column(String, index=True)
    is_group: Mapped[bool] = mapped_column(default=False)
    lft: Mapped[int | None]
    rgt: Mapped[int | None]
    modified: Mapped[str | None] = mapped_column(String)

    taxes: Mapped[list[ItemGroupTax]] = relationship(
        back_populates="item_group", cascade="all, delete-orphan", order_by="ItemGroupTax.idx"
    )


class ItemGroupTax(Base):
    """An Item Group's ``taxes`` row, used when the item itself has none (FACTS §3.7)."""

    __tablename__ = "item_group_taxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("item_groups.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(default=1)
    item_tax_template: Mapped[str] = mapped_column(String)
    tax_category: Mapped[str | None] = mapped_column(String)
    valid_from: Mapped[date | None]
    minimum_net_rate: Mapped[Decimal | None]
    maximum_net_rate: Mapped[Decimal | None]

    item_group: Mapped[ItemGroup] = relationship(back_populates="taxes")


class PriceList(Base):
    __tablename__ = "price_lists"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    currency: Mapped[str] = mapped_column(String)
    enabled: Mapped[bool] = mapped_column(default=True)
    selling: Mapped[bool] = mapped_column(default=False)
    buying: Mapped[bool] = mapped_column(default=False)
    price_not_uom_dependent: Mapped[bool] = mapped_column(default=False)
    modified: Mapped[str | None] = mapped_column(String)


class ItemPrice(Base):
    __tablename__ = "item_prices"
    # The price lookup filters by item and list first (FACTS §3.5).
    __table_args__ = (Index("ix_item_prices_item_code_price_list", "item_code", "price_list"),)

    name: Mapped[str] = mapped_column(String, primary_key=True)
    item_code: Mapped[str] = mapped_column(String)
    price_list: Mapped[str] = mapped_column(String)
    uom: Mapped[str | None] = mapped_column(String)
    price_list_rate: Mapped[Decimal]
    currency: Mapped[str | None] = mapped_column(String)
    customer: Mapped[str | None] = mapped_column(String)
    batch_no: Mapped[str | None] = mapped_column(String)
    valid_from: Mapped[date | None]
    valid_upto: Mapped[date | None]
    modified: Mapped[str | None] = mapped_column(String)


class SerialNo(Base):
    """A Serial No, pulled whole: the counter sells one only while it is Active in the till's
    warehouse (16 marks it Delivered at submit, 15 only at the shift's consolidation)."""

    __tablename__ = "serial_nos"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    item_code: Mapped[str | None] = mapped_column(String, index=True)
    warehouse: Mapped[str | None] = mapped_column(String)
    status: Mapped[str | None] = mapped_column(String)
    batch_no: Mapped[str | None] = mapped_column(String)
    modified: Mapped[str | None] = mapped_column(String)


class Batch(Base):
    """A Batch of an item (``name`` is its batch id), pulled whole."""

    __tablename__ = "batches"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    item: Mapped[str | None] = mapped_column(String, index=True)
    expiry_date: Mapped[date | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    modified: Mapped[str | None] = mapped_column(String)

"""Sales the till commits: POS Invoice with its items, taxes and payments.

Column names follow ERPNext's POS Invoice, POS Invoice Item, Sales Taxes and Charges and Sales
Invoice Payment. ``payload`` is the exact JSON body to send; the columns are what the till
itself reads (receipts, returns, cash-up, checks) without parsing it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base, utcnow
from appliance.store.models.enums import SaleStatus, enum_type
from appliance.store.models.shifts import PosOpeningEntry


class PosInvoice(Base):
    __tablename__ = "pos_invoices"
    # The receipt journal reads newest first, checking its terms in the index alone, and finds
    # a time of day (migration
    # 0013_journal_search, which also indexes expressions the journal's terms use: those are
    # not declared here, SQLAlchemy cannot reflect them to compare).
    __table_args__ = (
        Index(
            "ix_pos_invoices_posted",
            *("posting_date", "posting_time", "customer", "receipt_no", "offline_id"),
            *("rounded_total", "grand_total", "is_return"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offline_id: Mapped[str] = mapped_column(String, unique=True)
    receipt_no: Mapped[str] = mapped_column(String, unique=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("pos_opening_entries.id"), index=True)
    pos_profile: Mapped[str] = mapped_column(String)
    customer: Mapped[str] = mapped_column(String, index=True)
    cashier: Mapped[str] = mapped_column(String)
    posting_date: Mapped[date] = mapped_column(index=True)
    posting_time: Mapped[time] = mapped_column(index=True)
    is_return: Mapped[bool] = mapped_column(default=False)
    return_against_id: Mapped[int | None] = mapped_column(ForeignKey("pos_invoices.id"), index=True)
    status: Mapped[SaleStatus] = mapped_column(enum_type(SaleStatus, "sale_status"))
    total_qty: Mapped[Decimal]
    total: Mapped[Decimal]
    net_total: Mapped[Decimal]
    total_taxes_and_charges: Mapped[Decimal]
    discount_amount: Mapped[Decimal]
    additional_discount_percentage: Mapped[Decimal]
    apply_discount_on: Mapped[str] = mapped_column(String)
    grand_total: Mapped[Decimal]
    rounding_adjustment: Mapped[Decimal]
    rounded_total: Mapped[Decimal]
    paid_amount: Mapped[Decimal]
    change_amount: Mapped[Decimal]
    write_off_amount: Mapped[Decimal]
    # Loyalty: points redeemed as part payment and their value (not a payment row: ERPNext
    # books them as loyalty_amount), and the points this sale earns, as shown on the receipt.
    loyalty_program: Mapped[str | None] = mapped_column(String)
    loyalty_points: Mapped[int] = mapped_column(default=0)
    loyalty_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    loyalty_earned: Mapped[int] = mapped_column(default=0)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    shift: Mapped[PosOpeningEntry] = relationship(back_populates="invoices")
    return_against: Mapped[PosInvoice | None] = relationship(remote_side=[id])
    items: Mapped[list[PosInvoiceItem]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="PosInvoiceItem.idx"
    )
    taxes: Mapped[list[PosInvoiceTax]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="PosInvoiceTax.idx"
    )
    payments: Mapped[list[PosInvoicePayment]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="PosInvoicePayment.idx"
    )


class PosInvoiceItem(Base):
    __tablename__ = "pos_invoice_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("pos_invoices.id", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int]
    item_code: Mapped[str] = mapped_column(String, index=True)
    item_name: Mapped[str] = mapped_column(String)
    qty: Mapped[Decimal]
    uom: Mapped[str] = mapped_column(String)
    conversion_factor: Mapped[Decimal]
    price_list_rate: Mapped[Decimal]
    discount_percentage: Mapped[Decimal]
    discount_amount: Mapped[Decimal]
    rate: Mapped[Decimal]
    amount: Mapped[Decimal]
    net_rate: Mapped[Decimal]
    net_amount: Mapped[Decimal]
    distributed_discount_amount: Mapped[Decimal]
    item_tax_template: Mapped[str | None] = mapped_column(String)
    item_tax_rate: Mapped[str] = mapped_column(Text, default="{}")  # JSON {account: rate}
    # A return line points at the line it returns: locally by id; in ERPNext by the original
    # row's name (``pos_invoice_item``), known only once the original has been synced.
    original_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("pos_invoice_items.id"), index=True
    )
    pos_invoice_item: Mapped[str | None] = mapped_column(String)

    invoice: Mapped[PosInvoice] = relationship(back_populates="items")
    original_item: Mapped[PosInvoiceItem | None] = relationship(remote_side=[id])


class PosInvoiceTax(Base):
    __tablename__ = "pos_invoice_taxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("pos_invoices.id", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int]
    charge_type: Mapped[str] = mapped_column(String)
    account_head: Mapped[str] = mapped_column(String)
    description: Mapped[str] = mapped_column(Text, default="")
    rate: Mapped[Decimal]
    row_id: Mapped[int | None]
    included_in_print_rate: Mapped[bool] = mapped_column(default=False)
    cost_center: Mapped[str | None] = mapped_column(String)
    tax_amount: Mapped[Decimal]
    tax_amount_after_discount_amount: Mapped[Decimal]
    total: Mapped[Decimal]
    item_wise_tax_detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON, as ERPNext v15

    invoice: Mapped[PosInvoice] = relationship(back_populates="taxes")


class PosInvoicePayment(Base):
    """Sales Invoice Payment row. Returns carry negative amounts."""

    __tablename__ = "pos_invoice_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("pos_invoices.id", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int]
    mode_of_payment: Mapped[str] = mapped_column(String)
    type: Mapped[str | None] = mapped_column(String)
    account: Mapped[str | None] = mapped_column(String)
    amount: Mapped[Decimal]

    invoice: Mapped[PosInvoice] = relationship(back_populates="payments")

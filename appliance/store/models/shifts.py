"""Shifts the till opens and closes: POS Opening Entry and POS Closing Entry.

Period dates are the site's local wall time (ERPNext compares them with invoice posting times in
the System Settings time zone), so they are naive ``DateTime`` columns; ``created_at`` is UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base, utcnow
from appliance.store.models.enums import ShiftStatus, enum_type

if TYPE_CHECKING:
    from appliance.store.models.invoices import PosInvoice


class PosOpeningEntry(Base):
    __tablename__ = "pos_opening_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    offline_id: Mapped[str] = mapped_column(String, unique=True)
    pos_profile: Mapped[str] = mapped_column(String, index=True)
    company: Mapped[str] = mapped_column(String)
    user: Mapped[str] = mapped_column(String)
    period_start_date: Mapped[datetime] = mapped_column(DateTime)
    posting_date: Mapped[date]
    status: Mapped[ShiftStatus] = mapped_column(enum_type(ShiftStatus, "shift_status"), index=True)
    payload: Mapped[str] = mapped_column(Text)  # the exact body sent to ERPNext
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    balance_details: Mapped[list[PosOpeningEntryDetail]] = relationship(
        back_populates="opening", cascade="all, delete-orphan", order_by="PosOpeningEntryDetail.idx"
    )
    closing: Mapped[PosClosingEntry | None] = relationship(back_populates="opening")
    invoices: Mapped[list[PosInvoice]] = relationship(back_populates="shift")


class PosOpeningEntryDetail(Base):
    __tablename__ = "pos_opening_entry_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    opening_id: Mapped[int] = mapped_column(
        ForeignKey("pos_opening_entries.id", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(default=1)
    mode_of_payment: Mapped[str] = mapped_column(String)
    opening_amount: Mapped[Decimal]

    opening: Mapped[PosOpeningEntry] = relationship(back_populates="balance_details")


class PosClosingEntry(Base):
    __tablename__ = "pos_closing_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    offline_id: Mapped[str] = mapped_column(String, unique=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("pos_opening_entries.id"), unique=True)
    user: Mapped[str] = mapped_column(String)
    period_end_date: Mapped[datetime] = mapped_column(DateTime)
    posting_date: Mapped[date]
    posting_time: Mapped[time]
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    opening: Mapped[PosOpeningEntry] = relationship(back_populates="closing")
    payment_reconciliation: Mapped[list[PosClosingEntryDetail]] = relationship(
        back_populates="closing", cascade="all, delete-orphan", order_by="PosClosingEntryDetail.idx"
    )


class PosClosingEntryDetail(Base):
    """Cash-up per mode of payment: ``difference = closing_amount - expected_amount``."""

    __tablename__ = "pos_closing_entry_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    closing_id: Mapped[int] = mapped_column(
        ForeignKey("pos_closing_entries.id", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(default=1)
    mode_of_payment: Mapped[str] = mapped_column(String)
    opening_amount: Mapped[Decimal]
    expected_amount: Mapped[Decimal]
    closing_amount: Mapped[Decimal]
    difference: Mapped[Decimal]

    closing: Mapped[PosClosingEntry] = relationship(back_populates="payment_reconciliation")

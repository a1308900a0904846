"""Loyalty Programs and Loyalty Point Entries, pulled from ERPNext.

A customer's balance is the sum of their unexpired entries (features/NOTES.md §1, "Reading a
customer's balance": it matched ERPNext's own method every time); redemptions this till made
since the pull are subtracted by ``appliance.counter.loyalty``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base


class LoyaltyProgram(Base):
    __tablename__ = "loyalty_programs"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    company: Mapped[str | None] = mapped_column(String)
    # Currency per point redeemed; ``expiry_duration`` is in days.
    conversion_factor: Mapped[Decimal | None]
    expiry_duration: Mapped[int | None]
    expense_account: Mapped[str | None] = mapped_column(String)
    cost_center: Mapped[str | None] = mapped_column(String)
    from_date: Mapped[date | None]
    to_date: Mapped[date | None]
    modified: Mapped[str | None] = mapped_column(String)

    collection_rules: Mapped[list[LoyaltyProgramCollection]] = relationship(
        back_populates="program",
        cascade="all, delete-orphan",
        order_by="LoyaltyProgramCollection.idx",
    )


class LoyaltyProgramCollection(Base):
    """A tier: from ``min_spent`` on, one point per ``collection_factor`` spent."""

    __tablename__ = "loyalty_program_collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("loyalty_programs.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int]
    tier_name: Mapped[str | None] = mapped_column(String)
    min_spent: Mapped[Decimal | None]
    collection_factor: Mapped[Decimal | None]

    program: Mapped[LoyaltyProgram] = relationship(back_populates="collection_rules")


class LoyaltyPointEntry(Base):
    """Points earned (positive) or redeemed (negative) on one invoice."""

    __tablename__ = "loyalty_point_entries"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    customer: Mapped[str] = mapped_column(String, index=True)
    loyalty_program: Mapped[str | None] = mapped_column(String)
    loyalty_points: Mapped[int | None]
    purchase_amount: Mapped[Decimal | None]
    expiry_date: Mapped[date | None]
    invoice_type: Mapped[str | None] = mapped_column(String)
    invoice: Mapped[str | None] = mapped_column(String, index=True)
    company: Mapped[str | None] = mapped_column(String)
    modified: Mapped[str | None] = mapped_column(String)

"""Sales parked at the counter (hold, recall): kept in the store so a restart never loses one."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from appliance.store.models.base import Base


class HeldSale(Base):
    __tablename__ = "held_sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    offline_id: Mapped[str] = mapped_column(String, unique=True)  # the cart's sale id for life
    label: Mapped[str] = mapped_column(String)  # what the recall list shows
    held_at: Mapped[str] = mapped_column(String)  # ISO 8601, the till's local time
    cashier: Mapped[str] = mapped_column(String)  # who parked it
    cart: Mapped[str] = mapped_column(Text)  # the cart as canonical JSON (`sales.cart_json`)

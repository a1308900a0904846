"""Small bookkeeping tables: sync cursors and receipt number counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from appliance.store.models.base import Base, utcnow


class SyncState(Base):
    """Key/value cursors for the agent, e.g. ``pull.Item.modified`` -> ERPNext timestamp."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReceiptCounter(Base):
    """The last receipt number handed out per terminal; bumped in the sale's own transaction."""

    __tablename__ = "receipt_counters"

    terminal_id: Mapped[str] = mapped_column(String, primary_key=True)
    last_no: Mapped[int] = mapped_column(default=0)

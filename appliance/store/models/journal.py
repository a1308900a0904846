"""The audit journal: an append-only, hash-chained record of what happened at the till."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from appliance.store.models.base import Base


class JournalEntry(Base):
    __tablename__ = "journal"
    # AUTOINCREMENT keeps the highest seq ever used in sqlite_sequence, so deleting the newest
    # entries is detectable and their numbers are never handed out again.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy table options)

    seq: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[str] = mapped_column(String)  # ISO 8601 UTC text, hashed exactly as stored
    kind: Mapped[str] = mapped_column(String, index=True)  # a JournalKind value
    actor: Mapped[str] = mapped_column(String)
    ref: Mapped[str | None] = mapped_column(String, index=True)
    data: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String)
    hash: Mapped[str] = mapped_column(String, unique=True)

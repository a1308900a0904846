"""The outbox: every document waiting to go to ERPNext, and what each must wait for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base, utcnow
from appliance.store.models.enums import OutboxState, enum_type


class OutboxEntry(Base):
    __tablename__ = "outbox"
    # One entry per document: a resend is the same row, never a second one.
    __table_args__ = (UniqueConstraint("doctype", "offline_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doctype: Mapped[str] = mapped_column(String)  # the ERPNext doctype to create
    offline_id: Mapped[str] = mapped_column(String, index=True)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(
        enum_type(OutboxState, "outbox_state"), default=OutboxState.READY, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    erpnext_name: Mapped[str | None] = mapped_column(String)
    next_attempt_at: Mapped[datetime | None]
    # The USB bundle that carried it while there was no link (it stays unsynced until ERPNext
    # has it, through the import or the agent's own push).
    exported_bundle: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    depends_on: Mapped[list[OutboxEntry]] = relationship(
        secondary="outbox_dependencies",
        primaryjoin="OutboxEntry.id == OutboxDependency.entry_id",
        secondaryjoin="OutboxEntry.id == OutboxDependency.depends_on_id",
        viewonly=True,
    )


class OutboxDependency(Base):
    """``entry_id`` may be sent only once ``depends_on_id`` is DONE."""

    __tablename__ = "outbox_dependencies"
    __table_args__ = (CheckConstraint("entry_id != depends_on_id", name="not_self"),)

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True
    )
    # No cascade: a document others wait for must not vanish under them.
    depends_on_id: Mapped[int] = mapped_column(
        ForeignKey("outbox.id"), primary_key=True, index=True
    )

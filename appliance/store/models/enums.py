"""States the store keeps. Enums, never loose strings; stored by value with a CHECK constraint."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

# Kept apart so the till's sign-in screen can use it without loading SQLAlchemy.
from appliance.store.roles import CashierRole


class OutboxState(StrEnum):
    """Where a document is on its way to ERPNext.

    READY -> IN_FLIGHT -> DONE, or -> QUARANTINED (ERPNext refused it; a supervisor fixes the cause
    and moves it back to READY). IN_FLIGHT left over from a crash is reset to READY at start-up
    and re-checked against ERPNext by offline id before any resend.
    """

    READY = "READY"
    IN_FLIGHT = "IN_FLIGHT"
    DONE = "DONE"
    QUARANTINED = "QUARANTINED"


class ShiftStatus(StrEnum):
    """POS Opening Entry status, spelled as ERPNext does."""

    DRAFT = "Draft"
    OPEN = "Open"
    CLOSED = "Closed"
    CANCELLED = "Cancelled"


class SaleStatus(StrEnum):
    """The POS Invoice status the till gives a sale (ERPNext's spelling)."""

    PAID = "Paid"
    RETURN = "Return"
    CONSOLIDATED = "Consolidated"


class CustomerSyncState(StrEnum):
    """Whether ERPNext knows this customer yet."""

    SYNCED = "SYNCED"  # pulled from ERPNext, or created here and acknowledged
    PENDING = "PENDING"  # created on the till, not yet in ERPNext


def enum_type(enum_cls: type[StrEnum], name: str) -> Enum:
    """A VARCHAR column holding the enum's values, guarded by a named CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda cls: [member.value for member in cls],
        length=max(len(member.value) for member in enum_cls),
    )


__all__ = [
    "CashierRole",
    "CustomerSyncState",
    "OutboxState",
    "SaleStatus",
    "ShiftStatus",
    "enum_type",
]

"""Who may sign in at the till, as the screens see them (no hash), and the one query that lists
them.

Apart from ``appliance.counter.auth`` (Argon2, SQLAlchemy) so the sign-in screen can list the
cashiers at the till's cold start with the standard library's ``sqlite3`` alone; the backend
lists them with the same query through its SQLAlchemy session (``auth.list_cashiers``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from appliance.store.roles import CashierRole

# A cashier's own limits when the Cashier row leaves them empty.
ROLE_LINE_DISCOUNT = {
    CashierRole.CASHIER: Decimal(10),
    CashierRole.SUPERVISOR: Decimal(100),
    CashierRole.MANAGER: Decimal(100),
}
SUPERVISING_ROLES = (CashierRole.SUPERVISOR, CashierRole.MANAGER)

# The enabled cashiers (``appliance.store.models.Cashier``), by name; columns in `CashierCard`'s
# order. Money is kept as its exact text (``DecimalText``), the role by value.
LIST_CASHIERS_SQL = (
    "SELECT user, full_name, role, max_discount_percentage, max_return_amount "
    "FROM cashiers WHERE enabled IS 1 ORDER BY full_name"
)


@dataclass(frozen=True)
class ApprovalRequest:
    """What a cashier asks a supervisor to allow: journaled with the override, or counted
    against ``cashier`` when the supervisor's PIN is wrong (``auth.approve``)."""

    cashier: str
    action: str
    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CashierCard:
    """A signed-in (or listed) cashier: what the screens may show and check. No hash."""

    user: str
    full_name: str
    role: CashierRole
    max_discount_percentage: Decimal | None = None
    max_return_amount: Decimal | None = None

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISING_ROLES

    @property
    def discount_limit(self) -> Decimal:
        if self.max_discount_percentage is not None:
            return self.max_discount_percentage
        return ROLE_LINE_DISCOUNT[self.role]

    @property
    def may_override_price(self) -> bool:
        return self.supervises

    @property
    def may_approve_returns(self) -> bool:
        return self.supervises


# Marks the highlighted name on the sign-in list: plain ASCII, so the console's font has it and
# an 8-colour console (TERM=linux), where the highlight colour may not show, still shows it.
MARKER = ">"


def row_label(card: CashierCard, *, marked: bool) -> str:
    """A cashier's row on the sign-in list, marked when it is the highlighted one."""
    return f"{MARKER if marked else ' '} {card.full_name}  ({card.role.value})"


def pin_prompt(card: CashierCard) -> str:
    """Whose PIN the box takes, said in words: a PIN typed for the wrong name costs that
    person a try, so the cashier must see whose it is before typing."""
    return f"PIN for {card.full_name} ({card.role.value})"


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def cards(rows: Iterable[Sequence[Any]]) -> list[CashierCard]:
    """`CashierCard`s from rows of `LIST_CASHIERS_SQL`."""
    return [
        CashierCard(str(user), str(name), CashierRole(role), _money(discount), _money(returns))
        for user, name, role, discount, returns in rows
    ]


def read_cashiers(db: Path) -> list[CashierCard]:
    """The enabled cashiers, read through a read-only ``sqlite3`` connection of its own."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return cards(conn.execute(LIST_CASHIERS_SQL))
    finally:
        conn.close()

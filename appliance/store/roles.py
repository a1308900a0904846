"""Cashier roles, apart from the models so the sign-in screen can name them without SQLAlchemy.

Stored by value in ``cashiers.role`` (``appliance.store.models`` re-exports the enum).
"""

from __future__ import annotations

from enum import StrEnum


class CashierRole(StrEnum):
    CASHIER = "cashier"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"

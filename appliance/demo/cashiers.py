"""The demo store's cashiers and their PINs (the demo's sign-in screen shows them).

Apart from the seeding code (``appliance.store.masters``), which loads SQLAlchemy: the sign-in
screen names them at the till's cold start.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.store.roles import CashierRole


@dataclass(frozen=True)
class DemoCashier:
    user: str
    full_name: str
    pin: str
    role: CashierRole


DEMO_CASHIERS = (
    DemoCashier("ana@example.com", "Ana", "1234", CashierRole.CASHIER),
    DemoCashier("bo@example.com", "Bo", "9999", CashierRole.SUPERVISOR),
    DemoCashier("cy@example.com", "Cy", "5678", CashierRole.CASHIER),
)

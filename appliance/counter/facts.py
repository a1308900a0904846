"""What the screens need to know about the till they sell on, handed to them as data at
sign-in (``Counter.facts``): never read through the counter's live objects.

Light on purpose (no SQLAlchemy, not even the sales domain at run time): the screens' context
holds it from the till's cold start, when it knows only the terminal and who may sign in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from appliance.counter.cashier import CashierCard
from appliance.counter.typed_numbers import NumberStyle

if TYPE_CHECKING:
    from appliance.sales.till import PaymentMode


@dataclass(frozen=True)
class CounterFacts:
    terminal_id: str
    company: str = ""
    cash_mode: str = "Cash"
    modes: tuple[PaymentMode, ...] = ()
    # How the store writes numbers (ERPNext's number format): typed amounts are read by it.
    number_style: NumberStyle = field(default_factory=NumberStyle)
    time_zone: str = ""
    # Who may sign in (the sign-in list, the supervisors an approval may name).
    cashiers: tuple[CashierCard, ...] = ()
    # Modes that spend a customer's store credit: taken only up to their balance.
    store_credit_modes: tuple[str, ...] = ()

    def mode(self, name: str) -> PaymentMode:
        """The profile's mode of payment by name; an unknown name is taken as cash."""
        from appliance.sales.till import PaymentMode  # noqa: PLC0415 - not at cold start

        for m in self.modes:
            if m.mode_of_payment == name:
                return m
        return PaymentMode(name, "Cash")

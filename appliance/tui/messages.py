"""Messages screens send up to the app, which routes between screens."""

from __future__ import annotations

from textual.message import Message

from appliance.counter.cashier import CashierCard


class SignedIn(Message):
    def __init__(self, cashier: CashierCard, unlocked: bool) -> None:
        super().__init__()
        self.cashier = cashier
        self.unlocked = unlocked


class SignOut(Message):
    """The cashier leaves; the sell screen is gone (held carts stay in the store)."""


class ShiftChanged(Message):
    """A shift was opened or closed at this till (the status bar says so at once)."""

    def __init__(self, open: bool) -> None:
        super().__init__()
        self.open = open


class LockNow(Message):
    """Lock the till now (the cashier steps away); the cart stays."""


class ShutDown(Message):
    """A supervisor asked the appliance to stop."""

    def __init__(self, supervisor: str) -> None:
        super().__init__()
        self.supervisor = supervisor


class Scanned(Message, bubble=False):
    """A code from the keyboard-wedge scanner, delivered to the active screen."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

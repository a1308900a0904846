"""What every screen is handed when it is made: the store's thread, the devices, who is signed
in and the facts of the till (as data: screens never read the counter's live objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from appliance.counter.cashier import CashierCard
from appliance.counter.facts import CounterFacts
from appliance.drivers.peripherals import Peripherals
from appliance.support.activity import TillActivity
from appliance.tui.backend import Backend


@dataclass
class Context:
    backend: Backend
    devices: Peripherals
    demo: bool = False
    cashier: CashierCard | None = None
    # Tells `appliance busy` (and so a rollout) whether a sale is in progress; None in tests
    # that don't look at it.
    activity: TillActivity | None = None
    # provisioning's status.json (provision_status.py): a refused file is said on screen.
    provisioning_status: Path | None = None
    # The image's vault-setup writes this on a till without a TPM (also shown at SSH login):
    # its presence is said on sign-in for IT.
    vault_notice: Path | None = None
    # Until the store is open: the terminal and who may sign in; the rest once it is (the app
    # asks `Counter.facts` when the store opens and at each sign-in).
    facts: CounterFacts = field(init=False)

    def __post_init__(self) -> None:
        self.facts = CounterFacts(
            self.backend.cfg.terminal.id, cashiers=tuple(self.backend.cashiers)
        )

    @property
    def user(self) -> str:
        return self.cashier.user if self.cashier else ""

"""What every screen is handed when it is made: the backend, the devices, who is signed in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.counter.cashier import CashierCard
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

    @property
    def user(self) -> str:
        return self.cashier.user if self.cashier else ""

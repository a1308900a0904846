"""The one-line status bar every screen shows: who, shift, link, outbox, devices."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from appliance.drivers.peripherals import DeviceState, DeviceView

MARK = {
    DeviceState.ONLINE: "ok",
    DeviceState.OFFLINE: "OFF",
    DeviceState.ERROR: "ERR",
    DeviceState.UNKNOWN: "--",
}


SHORT = {"printer": "P", "drawer": "D", "display": "V", "scale": "S", "scanner": "B"}


@dataclass(frozen=True)
class StatusLine:
    cashier: str = ""
    locked: bool = False
    shift_open: bool | None = None
    online: bool = False
    sync_problem: str = ""  # "request too large": what to tell IT
    last_sync: str = ""
    unsynced: int = 0
    quarantined: int = 0
    devices: tuple[DeviceView, ...] = field(default_factory=tuple)
    provisioning: str = ""  # why a provisioning file was refused (provision_status.refusal)


def _device(view: DeviceView) -> str:
    """ "P:OFF(2)": the printer is offline with two documents waiting for it."""
    waiting = f"({view.waiting})" if view.waiting else ""
    return f"{SHORT.get(view.name, view.name[:3])}:{MARK[view.state]}{waiting}"


class StatusBar(Static):
    status: reactive[StatusLine] = reactive(StatusLine, layout=False)

    def on_mount(self) -> None:
        latest = getattr(self.app, "status_line", None)
        if isinstance(latest, StatusLine):
            self.status = latest

    def render(self) -> str:
        s = self.status
        who = s.cashier or "signed out"
        parts = [f"{who} LOCKED" if s.locked and s.cashier else who]
        if s.shift_open is not None:
            parts.append("shift open" if s.shift_open else "NO SHIFT")
        link = "online" if s.online else "OFFLINE"
        if s.sync_problem:
            link += f": {s.sync_problem}"
        parts.append(f"{link}{' ' + s.last_sync if s.last_sync else ''}")
        parts.append(f"unsent {s.unsynced}")
        if s.quarantined:
            parts.append(f"REFUSED {s.quarantined}")
        devices = " ".join(_device(d) for d in s.devices)
        if devices:
            parts.append(devices)
        if s.provisioning:
            parts.append("PROVISIONING REFUSED")
        return "│".join(f" {p} " for p in parts)


class ProvisioningNotice(StatusBar):
    """The whole reason, where IT and the cashier look first (sign-in). A StatusBar, so the
    app's status updates reach it; hidden while there is nothing to say."""

    def watch_status(self, status: StatusLine) -> None:
        self.display = bool(status.provisioning)

    def render(self) -> Text:  # type: ignore[override]
        # Text, not markup: the reason quotes a file from a stick nobody vouched for.
        return Text(f"Provisioning file refused: {self.status.provisioning}")

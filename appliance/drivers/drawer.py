"""Cash drawers: kicked through the receipt printer (ESC p) or on their own serial port.

Every opening is journaled with its reason (sale, no sale, float, pickup): staff and
supervisors rely on that trail, so `kick` logs before it returns and tells the optional
`on_opening` hook, which the app uses to record the opening in its database.
"""

from __future__ import annotations

import logging
import time

from appliance.drivers.config import DrawerConfig
from appliance.drivers.errors import DeviceOfflineError
from appliance.drivers.interfaces import DrawerOpening, OpeningHook, ReceiptPrinter
from appliance.drivers.serial_port import SerialDevice
from appliance.drivers.state import DeviceState, DeviceStatus, StatusCell

log = logging.getLogger(__name__)


def _journal(device: str, reason: str, ref: str, hook: OpeningHook | None) -> None:
    # Upper-case extras become journal fields: `journalctl DRAWER_REASON=no-sale`.
    log.info("drawer %s opened: %s", device, reason, extra={"DRAWER_REASON": reason})
    if hook is not None:
        hook(DrawerOpening(device, reason, time.time(), ref))


class PrinterDrawer:
    """The drawer on the printer's kick port. Its state follows the printer's."""

    kind = "drawer"

    def __init__(
        self, config: DrawerConfig, printer: ReceiptPrinter, on_opening: OpeningHook | None = None
    ) -> None:
        self.name = config.name
        self.pin = config.pin
        self.open_level = config.open_level
        self.printer = printer
        self.on_opening = on_opening
        self._status = StatusCell(config.name, self.kind)
        printer.status.subscribe(self._follow)
        self._follow(printer.status.status)

    @property
    def status(self) -> StatusCell:
        return self._status

    def _follow(self, status: DeviceStatus) -> None:
        self._status.set(status.state, status.error)

    # The printer is opened and retried by the supervisor on its own account.
    def open(self) -> None:
        if self.printer.status.state is not DeviceState.ONLINE:
            raise DeviceOfflineError(self.name)

    def probe(self) -> None:
        self.open()

    def close(self) -> None:
        pass

    def kick(self, reason: str, ref: str = "") -> None:
        self.printer.kick_drawer(self.pin)
        _journal(self.name, reason, ref, self.on_opening)

    def is_open(self) -> bool | None:
        if self.open_level is None:
            return None
        level = self.printer.drawer_sensor()
        return None if level is None else level == self.open_level


class SerialDrawer(SerialDevice):
    """A drawer with its own serial interface: it opens on the configured bytes."""

    kind = "drawer"

    def __init__(self, config: DrawerConfig, on_opening: OpeningHook | None = None) -> None:
        assert config.serial is not None
        super().__init__(config.name, config.serial)
        self.kick_bytes = config.kick_bytes
        self.on_opening = on_opening

    def kick(self, reason: str, ref: str = "") -> None:
        self.write(self.kick_bytes)
        _journal(self.name, reason, ref, self.on_opening)

    def is_open(self) -> bool | None:
        return None  # these interfaces report nothing back

"""Builds the configured devices (from validated `[devices.*]` tables), ready to supervise.

Explicit, called by the app at start-up: no import-time registration.
"""

from __future__ import annotations

from appliance.drivers.config import (
    DevicesConfig,
    DisplayConfig,
    DrawerBackend,
    DrawerConfig,
    PrinterConfig,
    ScaleConfig,
    ScannerBackend,
    ScannerConfig,
)
from appliance.drivers.display import VfdDisplay
from appliance.drivers.drawer import PrinterDrawer, SerialDrawer
from appliance.drivers.interfaces import Device, OpeningHook
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.scale import ToledoScale
from appliance.drivers.scanner.hid_scanner import HidScanner
from appliance.drivers.scanner.serial_scanner import SerialScanner


def build_devices(
    config: DevicesConfig, on_drawer_opening: OpeningHook | None = None
) -> dict[str, Device]:
    """One driver per table, printers first so printer-driven drawers can find theirs."""
    built: dict[str, Device] = {}
    for name, cfg in config.devices.items():
        if isinstance(cfg, PrinterConfig):
            built[name] = EscposPrinter(cfg)
    for name, cfg in config.devices.items():
        if isinstance(cfg, DrawerConfig):
            if cfg.backend is DrawerBackend.PRINTER:
                printer = built[cfg.printer]
                assert isinstance(printer, EscposPrinter)  # parse_devices checked the name
                built[name] = PrinterDrawer(cfg, printer, on_drawer_opening)
            else:
                built[name] = SerialDrawer(cfg, on_drawer_opening)
        elif isinstance(cfg, DisplayConfig):
            built[name] = VfdDisplay(cfg)
        elif isinstance(cfg, ScaleConfig):
            built[name] = ToledoScale(cfg)
        elif isinstance(cfg, ScannerConfig):
            serial_backend = cfg.backend is ScannerBackend.SERIAL
            built[name] = SerialScanner(cfg) if serial_backend else HidScanner(cfg)
    return built

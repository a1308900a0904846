"""`appliance devices` and `appliance devices test <kind>`: what is plugged in, and does it work.

``devices`` prints JSON: every configured device (kind, backend, port) with the state it reaches
when opened now, and the serial ports the kernel sees (with their /dev/serial/by-id names and
USB vid:pid, which is what goes into ``port``). ``devices test`` exercises one device once and
exits non-zero with one line naming the device and the cause when it cannot.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appliance import paths
from appliance.actor import cli_actor
from appliance.config import Config, ConfigError, load_config
from appliance.drivers.config import (
    DeviceConfig,
    DisplayConfig,
    DrawerBackend,
    DrawerConfig,
    PrinterBackend,
    PrinterConfig,
    ScaleConfig,
    ScannerBackend,
    ScannerConfig,
)
from appliance.drivers.display import VfdDisplay
from appliance.drivers.drawer import PrinterDrawer, SerialDrawer
from appliance.drivers.errors import DeviceError
from appliance.drivers.interfaces import Device, DrawerOpening, OpeningHook
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.printer.layout import printer_test_page
from appliance.drivers.registry import build_devices
from appliance.drivers.scale import ToledoScale
from appliance.drivers.scanner.hid_scanner import HidScanner
from appliance.drivers.scanner.serial_scanner import SerialScanner

BY_ID = Path("/dev/serial/by-id")
INPUT_BY_ID = Path("/dev/input/by-id")
TEST_LINE = ("DISPLAY TEST 1234567", "ABCDEFGHIJKLMNOPQRST")


def _config(args: argparse.Namespace) -> Config:
    path = getattr(args, "config", None)
    return load_config(Path(path) if path else None)


# -- describing --------------------------------------------------------------------------------


def _backend(cfg: DeviceConfig) -> str:
    if isinstance(cfg, PrinterConfig | DrawerConfig | ScannerConfig):
        return cfg.backend.value
    return "serial"


def _port(cfg: DeviceConfig) -> str:
    if isinstance(cfg, PrinterConfig):
        if cfg.backend is PrinterBackend.NETWORK:
            return f"{cfg.host}:{cfg.tcp_port}"
        if cfg.backend is PrinterBackend.USB:
            return f"usb {cfg.usb_vendor_id:04x}:{cfg.usb_product_id:04x}"
        if cfg.backend is PrinterBackend.FILE:
            return cfg.path
    if isinstance(cfg, DrawerConfig) and cfg.backend is DrawerBackend.PRINTER:
        return f"via [devices.{cfg.printer}]"
    if isinstance(cfg, ScannerConfig) and cfg.backend is ScannerBackend.HID:
        return cfg.device
    serial = getattr(cfg, "serial", None)
    return serial.port if serial is not None else ""


def _by_id_links(root: Path) -> dict[str, list[str]]:
    """Real device node -> the stable by-id names pointing at it."""
    links: dict[str, list[str]] = {}
    if not root.is_dir():
        return links
    for link in sorted(root.iterdir()):
        links.setdefault(os.path.realpath(link), []).append(str(link))
    return links


def detected_serial_ports() -> list[dict[str, Any]]:
    from serial.tools import list_ports  # noqa: PLC0415 - only this command needs it

    by_id = _by_id_links(BY_ID)
    ports = []
    for info in sorted(list_ports.comports(), key=lambda p: p.device):
        usb = f"{info.vid:04x}:{info.pid:04x}" if info.vid is not None else None
        ports.append(
            {
                "device": info.device,
                "by_id": by_id.get(os.path.realpath(info.device), []),
                "usb": usb,
                "description": None if info.description == "n/a" else info.description,
                "manufacturer": info.manufacturer,
                "product": info.product,
                "serial_number": info.serial_number,
            }
        )
    return ports


def detected_keyboards() -> list[str]:
    """USB HID keyboards (scanners included) by their stable evdev names."""
    if not INPUT_BY_ID.is_dir():
        return []
    return sorted(str(p) for p in INPUT_BY_ID.iterdir() if p.name.endswith("-event-kbd"))


def _one_line(problem: object) -> str:
    """python-escpos puts newlines in its messages; a report line must stay one line."""
    return " ".join(str(problem).split())


def _open(device: Device) -> None:
    device.open()
    device.probe()


def configured(cfg: Config) -> list[dict[str, Any]]:
    """Each configured device, opened (and probed) once to find its state now."""
    devices = build_devices(cfg.devices)
    out = []
    try:
        for name, device in devices.items():  # printers first: their drawers follow them
            # A failure is recorded in the driver's status, which is what is reported.
            with contextlib.suppress(DeviceError):
                _open(device)
            dcfg = cfg.devices.devices[name]
            status = device.status.status
            out.append(
                {
                    "name": name,
                    "kind": device.kind,
                    "backend": _backend(dcfg),
                    "port": _port(dcfg),
                    "state": status.state.value,
                    "error": _one_line(status.error) or None,
                }
            )
    finally:
        for device in devices.values():
            device.close()
    return out


def devices_list(args: argparse.Namespace) -> int:
    try:
        cfg = _config(args)
    except ConfigError as exc:
        print(f"devices: {exc}", file=sys.stderr)
        return 2
    report = {
        "config": str(cfg.source),
        "configured": configured(cfg),
        "detected": {"serial": detected_serial_ports(), "hid_keyboards": detected_keyboards()},
    }
    print(json.dumps(report, indent=1))
    return 0


# -- testing -----------------------------------------------------------------------------------


def _pick(cfg: Config, wanted: str) -> str:
    """The device's table name: `wanted` itself, or the first device of that kind."""
    if wanted in cfg.devices.devices:
        return wanted
    for name, dcfg in cfg.devices.devices.items():
        if _kind(dcfg) == wanted:
            return name
    raise LookupError(f'no [devices.*] table with kind = "{wanted}" in {cfg.source}')


def _kind(cfg: DeviceConfig) -> str:
    kinds: dict[type, str] = {
        PrinterConfig: "printer",
        DrawerConfig: "drawer",
        DisplayConfig: "display",
        ScaleConfig: "scale",
        ScannerConfig: "scanner",
    }
    return kinds[type(cfg)]


def _weight(value: Decimal, unit: str, stable: bool) -> str:
    return f"{value} {unit}{'' if stable else ' (unstable)'}"


def exercise(device: Device, *, wait: float = 10.0, now: datetime | None = None) -> str:
    """Do the device's test once; returns what happened, raises `DeviceError` when it cannot."""
    if isinstance(device, EscposPrinter):
        page = printer_test_page(
            device.columns, device.name, now or datetime.now(), device.symbology
        )
        device.print_document(page)
        return f"{device.name}: test page printed ({device.columns} columns)"
    if isinstance(device, PrinterDrawer | SerialDrawer):
        device.kick("devices test")
        state = device.is_open()
        sensor = "" if state is None else f", sensor says {'open' if state else 'closed'}"
        return f"{device.name}: drawer kicked{sensor}"
    if isinstance(device, VfdDisplay):
        device.show(*TEST_LINE)
        return f"{device.name}: showing {TEST_LINE[0]!r} / {TEST_LINE[1]!r}"
    if isinstance(device, ToledoScale):
        w = device.read_weight()
        return f"{device.name}: {_weight(w.value, w.unit, w.stable)}"
    if isinstance(device, SerialScanner | HidScanner):
        code = device.get_code(wait)
        if code is None:
            raise DeviceError(device.name, f"no scan within {wait:g} s")
        return f"{device.name}: scanned {code}"
    raise DeviceError(device.name, f"no test for a {device.kind}")  # pragma: no cover


def _opened(devices: dict[str, Device], name: str) -> Iterable[Device]:
    """The device and what it depends on (a printer-driven drawer's printer), in open order."""
    device = devices[name]
    if isinstance(device, PrinterDrawer):
        printer = device.printer
        assert isinstance(printer, EscposPrinter)
        return (printer, device)
    return (device,)


def journal_openings(db: Path) -> OpeningHook | None:
    """Journal each drawer opening in the till's store, like the till's own, if there is one.

    Cash drawers open on the record, a test included: the supervisor counting the float
    afterwards must see who opened it, when, and why.
    """
    if not db.exists():
        return None
    # The store loads only for a drawer test on a machine that has one.
    from appliance.store import journal  # noqa: PLC0415
    from appliance.store.db import create_db_engine, make_session_factory, unit_of_work  # noqa: PLC0415

    actor = cli_actor()

    def record(opening: DrawerOpening) -> None:
        engine = create_db_engine(db)
        try:
            with unit_of_work(make_session_factory(engine)) as uow:
                data = {"reason": opening.reason, "device": opening.device}
                journal.append(uow.session, journal.JournalKind.DRAWER_OPEN, actor, None, data)
                uow.commit()
        finally:
            engine.dispose()

    return record


def devices_test(args: argparse.Namespace) -> int:
    try:
        cfg = _config(args)
        name = _pick(cfg, args.kind)
    except ConfigError as exc:
        print(f"devices test: {exc}", file=sys.stderr)
        return 2
    except LookupError as exc:
        print(f"devices test: {exc.args[0]}", file=sys.stderr)
        return 2
    devices = build_devices(cfg.devices, journal_openings(paths.db_path()))
    chain = list(_opened(devices, name))
    try:
        for device in chain:
            device.open()
        print(exercise(devices[name], wait=args.wait))
    except DeviceError as exc:
        print(f"devices test: {_one_line(exc)}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:  # kicked, but the journal could not take it
        print(f"devices test: {name}: opened but not journaled: {_one_line(exc)}", file=sys.stderr)
        return 1
    finally:
        for device in reversed(chain):
            device.close()
    return 0

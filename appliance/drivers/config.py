"""The ``[devices.*]`` tables of appliance.toml, validated into typed settings.

Each table is one device: ``kind`` says what it is, ``backend`` how it is connected, the rest
are that backend's options. A wrong value stops with ``<file>: [devices.<name>] <key>: <problem>``
like the rest of the config; unknown keys are errors (a typo is not a default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

from appliance.config_error import ConfigError
from appliance.untrusted import shown

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES = {"none": "N", "even": "E", "odd": "O"}
# Paper width (mm) -> characters per line in font A: the two roll widths counters use.
PAPER_COLUMNS = {58: 32, 80: 48}


class DeviceKind(StrEnum):
    PRINTER = "printer"
    DRAWER = "drawer"
    DISPLAY = "display"
    SCALE = "scale"
    SCANNER = "scanner"


class PrinterBackend(StrEnum):
    SERIAL = "serial"
    USB = "usb"
    NETWORK = "network"
    FILE = "file"  # a device node such as /dev/usb/lp0


class ReceiptCode(StrEnum):
    QR = "qr"
    CODE128 = "code128"
    NONE = "none"


class DrawerBackend(StrEnum):
    PRINTER = "printer"  # the usual RJ11 cable into the printer's drawer-kick port
    SERIAL = "serial"


class ScannerBackend(StrEnum):
    SERIAL = "serial"
    HID = "hid"  # USB HID read through evdev with an exclusive grab


@dataclass(frozen=True)
class SerialSettings:
    port: str  # a device path (prefer /dev/serial/by-id/...) or a pyserial URL (socket://...)
    baud: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    timeout: float = 0.5


@dataclass(frozen=True)
class PrinterConfig:
    name: str
    backend: PrinterBackend
    serial: SerialSettings | None = None
    path: str = ""  # FILE backend
    host: str = ""  # NETWORK backend
    tcp_port: int = 9100
    usb_vendor_id: int = 0
    usb_product_id: int = 0
    model: str | None = None  # a python-escpos capabilities profile, e.g. "TM-T20II"
    paper_width: int = 80
    columns: int = 48
    receipt_code: ReceiptCode = ReceiptCode.QR
    drawer_pin: int = 2
    status_query: bool = False  # only printers that answer DLE EOT
    timeout: float = 5.0


@dataclass(frozen=True)
class DrawerConfig:
    name: str
    backend: DrawerBackend
    printer: str = "printer"  # PRINTER backend: which [devices.*] printer drives it
    pin: int = 2
    serial: SerialSettings | None = None
    kick_bytes: bytes = b"\x07"  # SERIAL backend: what the drawer's interface opens on
    # What the printer's drawer sensor level means; None when no sensor is wired.
    open_level: bool | None = None


@dataclass(frozen=True)
class DisplayConfig:
    name: str
    serial: SerialSettings
    columns: int = 20
    welcome: tuple[str, str] = ("Welcome", "")


@dataclass(frozen=True)
class ScaleConfig:
    name: str
    serial: SerialSettings
    protocol: str = "toledo"
    unit: str = "kg"


@dataclass(frozen=True)
class ScannerConfig:
    name: str
    backend: ScannerBackend
    serial: SerialSettings | None = None
    prefix: str = ""
    suffix: str = "\r"
    device: str = ""  # HID backend: /dev/input/by-id/...-event-kbd
    grab: bool = True


DeviceConfig = PrinterConfig | DrawerConfig | DisplayConfig | ScaleConfig | ScannerConfig


T = TypeVar("T")


@dataclass(frozen=True)
class DevicesConfig:
    devices: Mapping[str, DeviceConfig] = field(default_factory=dict)

    def of_kind(self, kind: type[T]) -> list[T]:
        return [d for d in self.devices.values() if isinstance(d, kind)]

    def first(self, kind: type[T]) -> T | None:
        found = self.of_kind(kind)
        return found[0] if found else None


def _config_error(message: str) -> Exception:
    return ConfigError(message)


class _Table:
    def __init__(self, source: str, name: str, table: object) -> None:
        self.where = f"{source}: [devices.{name}]"
        if not isinstance(table, Mapping):
            raise _config_error(f"{self.where}: must be a table")
        self.table: Mapping[str, Any] = table
        self.used: set[str] = set()

    def error(self, key: str, problem: str) -> Exception:
        return _config_error(f"{self.where} {key}: {problem}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.error(key, "is required")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}
            raise self.error(key, f"must be {names.get(kind, kind.__name__)}, got {shown(value)}")
        return value

    def choice(self, key: str, choices: tuple[Any, ...], default: Any = ...) -> Any:
        value = self.get(key, type(choices[0]), default)
        if value not in choices:
            listed = ", ".join(str(c) for c in choices)
            raise self.error(key, f"must be one of {listed}, got {shown(value)}")
        return value

    def finish(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise self.error(extra[0], "is not a known setting (typo?)")


def _serial(
    t: _Table, *, baud: int = 9600, bytesize: int = 8, parity: str = "none"
) -> SerialSettings:
    port = t.get("port", str)
    if not port:
        raise t.error("port", "must not be empty")
    timeout = t.get("timeout", float, 0.5)
    if not 0.05 <= timeout <= 10:
        raise t.error("timeout", "must be between 0.05 and 10 seconds")
    return SerialSettings(
        port=port,
        baud=t.choice("baud", BAUD_RATES, baud),
        bytesize=t.choice("bytesize", (7, 8), bytesize),
        parity=PARITIES[t.choice("parity", tuple(PARITIES), parity)],
        stopbits=t.choice("stopbits", (1, 2), 1),
        timeout=timeout,
    )


def _usb_id(t: _Table, key: str) -> int:
    raw = t.get(key, object)
    try:
        value = int(raw, 16) if isinstance(raw, str) else raw
    except ValueError:
        value = None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 0xFFFF:
        raise t.error(key, f'must be a USB id such as "0x04b8", got {raw!r}')
    return value


def _model(t: _Table) -> str | None:
    model = t.get("model", str, "")
    if not model:
        return None
    # python-escpos' printer database (quirks as data); imported only when a model is named,
    # since loading it costs ~150 ms and every command reads the config.
    from escpos.capabilities import CAPABILITIES  # noqa: PLC0415

    if model not in CAPABILITIES["profiles"]:
        raise t.error(
            "model", f"is not a python-escpos profile, got {model!r} (see docs/devices.md)"
        )
    return str(model)


def _printer(t: _Table) -> PrinterConfig:
    backend = PrinterBackend(t.choice("backend", tuple(b.value for b in PrinterBackend)))
    paper = t.choice("paper_width", tuple(PAPER_COLUMNS), 80)
    columns = t.get("columns", int, PAPER_COLUMNS[paper])
    if not 24 <= columns <= 64:
        raise t.error("columns", "must be between 24 and 64")
    cfg = PrinterConfig(
        name="",
        backend=backend,
        serial=_serial(t) if backend is PrinterBackend.SERIAL else None,
        path=t.get("port", str) if backend is PrinterBackend.FILE else "",
        host=t.get("host", str) if backend is PrinterBackend.NETWORK else "",
        tcp_port=t.get("tcp_port", int, 9100) if backend is PrinterBackend.NETWORK else 9100,
        usb_vendor_id=_usb_id(t, "usb_vendor_id") if backend is PrinterBackend.USB else 0,
        usb_product_id=_usb_id(t, "usb_product_id") if backend is PrinterBackend.USB else 0,
        model=_model(t),
        paper_width=paper,
        columns=columns,
        receipt_code=_receipt_code(t),
        drawer_pin=t.choice("drawer_pin", (2, 5), 2),
        status_query=t.get("status_query", bool, False),
    )
    return cfg


def _receipt_code(t: _Table) -> ReceiptCode:
    return ReceiptCode(t.choice("receipt_code", tuple(c.value for c in ReceiptCode), "qr"))


def _drawer(t: _Table) -> DrawerConfig:
    backend = DrawerBackend(t.choice("backend", tuple(b.value for b in DrawerBackend)))
    level = t.choice("open_level", ("high", "low", "none"), "none")
    if backend is DrawerBackend.PRINTER:
        return DrawerConfig(
            name="",
            backend=backend,
            printer=t.get("printer", str, "printer"),
            pin=t.choice("pin", (2, 5), 2),
            open_level=None if level == "none" else level == "high",
        )
    kick = t.get("kick_bytes", str, "07")
    try:
        kick_bytes = bytes.fromhex(kick)
    except ValueError:
        kick_bytes = b""
    if not kick_bytes:
        raise t.error("kick_bytes", f'must be hex bytes such as "07", got {kick!r}')
    return DrawerConfig(name="", backend=backend, serial=_serial(t), kick_bytes=kick_bytes)


def _display(t: _Table) -> DisplayConfig:
    t.choice("backend", ("serial",), "serial")
    welcome = t.get("welcome", list, ["Welcome", ""])
    if len(welcome) > 2 or not all(isinstance(w, str) for w in welcome):
        raise t.error("welcome", "must be one or two lines of text")
    lines = [*welcome, "", ""][:2]
    return DisplayConfig(
        name="",
        serial=_serial(t),
        columns=t.choice("columns", (20,), 20),
        welcome=(lines[0], lines[1]),
    )


def _scale(t: _Table) -> ScaleConfig:
    protocol = t.choice("protocol", ("toledo",), "toledo")
    # Toledo 8217 framing is 9600 7E1 out of the box.
    return ScaleConfig(
        name="",
        serial=_serial(t, bytesize=7, parity="even"),
        protocol=protocol,
        unit=t.choice("unit", ("kg", "lb"), "kg"),
    )


def _scanner(t: _Table) -> ScannerConfig:
    backend = ScannerBackend(t.choice("backend", tuple(b.value for b in ScannerBackend)))
    if backend is ScannerBackend.HID:
        return ScannerConfig(
            name="", backend=backend, device=t.get("device", str), grab=t.get("grab", bool, True)
        )
    suffix = t.get("suffix", str, "\r")
    if not suffix:
        raise t.error("suffix", "must not be empty: it is how a code ends")
    return ScannerConfig(
        name="", backend=backend, serial=_serial(t), prefix=t.get("prefix", str, ""), suffix=suffix
    )


_PARSERS: dict[DeviceKind, Callable[[_Table], DeviceConfig]] = {
    DeviceKind.PRINTER: _printer,
    DeviceKind.DRAWER: _drawer,
    DeviceKind.DISPLAY: _display,
    DeviceKind.SCALE: _scale,
    DeviceKind.SCANNER: _scanner,
}


def parse_devices(devices: Mapping[str, Any], source: str) -> DevicesConfig:
    parsed: dict[str, DeviceConfig] = {}
    for name, table in devices.items():
        t = _Table(source, name, table)
        kind = DeviceKind(t.choice("kind", tuple(k.value for k in DeviceKind)))
        cfg: DeviceConfig = _PARSERS[kind](t)
        t.finish()
        parsed[name] = _named(cfg, name)
    for cfg in parsed.values():
        if isinstance(cfg, DrawerConfig) and cfg.backend is DrawerBackend.PRINTER:
            target = parsed.get(cfg.printer)
            if not isinstance(target, PrinterConfig):
                raise _config_error(
                    f"{source}: [devices.{cfg.name}] printer: no [devices.{cfg.printer}] printer"
                )
    return DevicesConfig(parsed)


def _named(cfg: DeviceConfig, name: str) -> DeviceConfig:
    return replace(cfg, name=name)

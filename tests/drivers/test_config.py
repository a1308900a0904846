"""[devices.*] validation: bad values stop with the file, the table and the key."""

from __future__ import annotations

import pytest

from appliance.config import ConfigError
from appliance.drivers.config import (
    DrawerConfig,
    PrinterBackend,
    PrinterConfig,
    ReceiptCode,
    ScaleConfig,
    ScannerConfig,
    parse_devices,
)

GOOD = {
    "printer": {
        "kind": "printer",
        "backend": "serial",
        "port": "/dev/serial/by-id/usb-Epson-if00",
        "baud": 19200,
        "paper_width": 58,
        "model": "TM-T20II",
        "receipt_code": "code128",
    },
    "drawer": {"kind": "drawer", "backend": "printer", "pin": 5, "open_level": "high"},
    "display": {"kind": "display", "port": "/dev/ttyUSB1", "welcome": ["Hello", "there"]},
    "scale": {"kind": "scale", "port": "/dev/ttyUSB2"},
    "scanner": {"kind": "scanner", "backend": "serial", "port": "/dev/ttyACM0", "prefix": "]"},
    "netprinter": {"kind": "printer", "backend": "network", "host": "10.0.0.5"},
    "usbprinter": {
        "kind": "printer",
        "backend": "usb",
        "usb_vendor_id": "0x04b8",
        "usb_product_id": 0x0E15,
    },
}


def test_good_devices() -> None:
    devices = parse_devices(GOOD, "/etc/appliance/appliance.toml")
    printer = devices.devices["printer"]
    assert isinstance(printer, PrinterConfig)
    assert printer.columns == 32 and printer.receipt_code is ReceiptCode.CODE128
    assert printer.serial is not None and printer.serial.baud == 19200
    drawer = devices.first(DrawerConfig)
    assert drawer is not None and drawer.pin == 5 and drawer.open_level is True
    scale = devices.first(ScaleConfig)
    assert scale is not None and (scale.serial.bytesize, scale.serial.parity) == (7, "E")
    scanner = devices.first(ScannerConfig)
    assert scanner is not None and scanner.suffix == "\r" and scanner.prefix == "]"
    usb = devices.devices["usbprinter"]
    assert isinstance(usb, PrinterConfig) and usb.backend is PrinterBackend.USB
    assert usb.usb_vendor_id == 0x04B8


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"kind": "printer", "backend": "serial", "port": "/dev/x", "baud": 9601},
            "[devices.t] baud: must be one of 1200, 2400, 4800, 9600, 19200",
        ),
        ({"kind": "printer", "backend": "serial"}, "[devices.t] port: is required"),
        ({"kind": "toaster"}, "[devices.t] kind: must be one of printer, drawer"),
        (
            {"kind": "printer", "backend": "file", "port": "/dev/usb/lp0", "paper": 80},
            "[devices.t] paper: is not a known setting",
        ),
        (
            {"kind": "printer", "backend": "file", "port": "/dev/usb/lp0", "model": "TM-X"},
            "[devices.t] model: is not a python-escpos profile",
        ),
        (
            {"kind": "drawer", "backend": "printer", "printer": "nope"},
            "[devices.t] printer: no [devices.nope] printer",
        ),
        (
            {"kind": "scanner", "backend": "serial", "port": "/dev/x", "suffix": ""},
            "[devices.t] suffix: must not be empty",
        ),
        (
            {"kind": "printer", "backend": "usb", "usb_vendor_id": "epson", "usb_product_id": 1},
            "[devices.t] usb_vendor_id: must be a USB id",
        ),
    ],
)
def test_bad_devices_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_devices({"t": table}, "/etc/appliance/appliance.toml")
    assert str(err.value).startswith("/etc/appliance/appliance.toml: ")
    assert message in str(err.value)

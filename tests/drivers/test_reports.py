"""X/Z reports and the test page print through the real driver and decode back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from appliance.drivers.config import parse_devices
from appliance.drivers.interfaces import Device
from appliance.drivers.printer.document import Symbology
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.printer.layout import ShiftReportLayout, printer_test_page
from appliance.drivers.printer.receipt import PaymentSummary, ReceiptTax, ShiftReport, StoreHeader
from appliance.drivers.registry import build_devices
from appliance.drivers.virtual.printer import VirtualPrinter


def test_z_report(printer: EscposPrinter, vprinter: VirtualPrinter) -> None:
    report = ShiftReport(
        store=StoreHeader("Corner Market"),
        terminal_id="T01",
        cashier="Alice",
        opened_at=datetime(2026, 11, 3, 8, 0),
        printed_at=datetime(2026, 11, 3, 17, 0),
        invoice_count=42,
        return_count=1,
        net_total=D("1000.00"),
        total_taxes=D("120.00"),
        grand_total=D("1120.00"),
        returns_total=D("-9.99"),
        taxes=(ReceiptTax("GST", D(5), D("50.00")), ReceiptTax("PST", D(7), D("70.00"))),
        payments=(PaymentSummary("Cash", D("600.00"), D("598.00")),),
        opening_float=D("100.00"),
        drawer_openings=3,
        unsynced_count=2,
        closing=True,
    )
    printer.print_document(ShiftReportLayout(columns=48).render_report(report))
    assert vprinter.wait_for(b"\x1dV")
    text = vprinter.text()
    assert "Z REPORT - SHIFT CLOSE" in text
    assert "  difference" in text and "-2.00" in text
    assert "2 SALES NOT YET SYNCED" in text


def test_test_page_has_accents_and_code(printer: EscposPrinter, vprinter: VirtualPrinter) -> None:
    page = printer_test_page(48, "printer", datetime(2026, 11, 3), Symbology.QR)
    printer.print_document(page)
    assert vprinter.wait_for(b"\x1dV")
    text = vprinter.text()
    assert "Accents: é à ü ç ñ" in text  # python-escpos chose code pages; the twin followed
    assert "[QR TEST-0001]" in text


def test_build_devices_from_config() -> None:
    cfg = parse_devices(
        {
            "printer": {"kind": "printer", "backend": "file", "port": "/dev/usb/lp0"},
            "drawer": {"kind": "drawer", "backend": "printer"},
            "scale": {"kind": "scale", "port": "/dev/ttyUSB0"},
            "scanner": {"kind": "scanner", "backend": "hid", "device": "/dev/input/event3"},
        },
        "test.toml",
    )
    devices = build_devices(cfg)
    assert {n: d.kind for n, d in devices.items()} == {
        "printer": "printer",
        "drawer": "drawer",
        "scale": "scale",
        "scanner": "scanner",
    }
    assert all(isinstance(d, Device) for d in devices.values())

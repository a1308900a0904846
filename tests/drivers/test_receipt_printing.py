"""The real python-escpos driver prints over a pty; the twin decodes what arrived."""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.drivers.printer.document import Symbology
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.printer.layout import ReceiptLayout
from appliance.drivers.virtual.escpos_decoder import Mark
from appliance.drivers.virtual.printer import VirtualPrinter
from tests.drivers.sample import sample_receipt

CUT = b"\x1dV"


def _print(printer: EscposPrinter, vprinter: VirtualPrinter, code: Symbology) -> None:
    doc = ReceiptLayout(columns=printer.columns, code=code).render(sample_receipt())
    printer.print_document(doc)
    assert vprinter.wait_for(CUT)


def test_receipt_bytes_on_the_wire(printer: EscposPrinter, vprinter: VirtualPrinter) -> None:
    _print(printer, vprinter, Symbology.QR)
    wire = bytes(vprinter.received)
    assert wire.startswith(b"\x1b@")  # ESC @ initialize
    assert b"\x1bE\x01" in wire  # bold on (store name, totals)
    assert b"\x1ba\x01" in wire  # centred (header)
    assert b"\x1d!\x11" in wire or b"\x1b!\x30" in wire  # double width and height
    assert b"\x1dB\x01" in wire  # inverted OFFLINE marker
    assert b"\x1d(k" in wire and b"T01-000123" in wire  # native QR of the receipt number
    assert CUT in wire


def test_receipt_decodes_to_the_layout_text(
    printer: EscposPrinter, vprinter: VirtualPrinter
) -> None:
    _print(printer, vprinter, Symbology.CODE128)
    printed = vprinter.printed()
    text = [p.text for p in printed if p.kind is Mark.TEXT]
    assert any("OFFLINE SALE" in t for t in text)
    assert any(t.startswith("Subtotal") and t.endswith("40.40") for t in text)
    assert any(t.startswith("GST 5%") and t.endswith("1.82") for t in text)
    assert any(t.startswith("PST 7%") and t.endswith("1.89") for t in text)
    assert any(t.startswith("Reduced rate 2.5%") and t.endswith("0.25") for t in text)
    assert any(t.startswith("  less 10%") and t.endswith("-2.50") for t in text)
    assert any(t.startswith("Change") and t.endswith("2.65") for t in text)
    assert all(len(t) <= 48 for t in text)
    total = next(p for p in printed if p.text.startswith("TO PAY"))
    assert total.style.width == 2 and total.style.height == 2
    assert total.text.endswith("42.35") and len(total.text) == 24
    barcode = next(p for p in printed if p.kind is Mark.BARCODE)
    assert barcode.data == "CODE128 T01-000123"
    assert printed[-1].kind is Mark.CUT


def test_receipt_png(printer: EscposPrinter, vprinter: VirtualPrinter, tmp_path: Path) -> None:
    from PIL import Image

    _print(printer, vprinter, Symbology.QR)
    png = vprinter.render_png(tmp_path / "receipt.png")
    with Image.open(png) as image:
        assert image.width == 48 * 12 + 32
        assert image.height > 800
    shutil.copy(png, "/tmp/receipt_demo.png")  # for a person to look at


def test_58mm_receipt_fits_32_columns(tmp_path: Path) -> None:
    doc = ReceiptLayout(columns=32).render(sample_receipt())
    lines = doc.as_text().splitlines()
    assert all(len(line) <= 32 for line in lines)
    assert "[QR T01-000123]" in lines


def test_levies_print_per_unit_and_zero_rows_are_left_off() -> None:
    from dataclasses import replace
    from decimal import Decimal

    from appliance.drivers.printer.layout import ReceiptLayout
    from appliance.drivers.printer.receipt import ReceiptTax
    from tests.drivers.sample import sample_receipt

    receipt = sample_receipt()
    receipt = replace(
        receipt,
        taxes=(
            ReceiptTax("Carbon levy", Decimal("0.176"), Decimal("7.04"), per_unit=True),
            ReceiptTax("PST", Decimal(7), Decimal(0)),
            *receipt.taxes,
        ),
    )
    text = ReceiptLayout(columns=48).render(receipt).as_text()
    assert "Carbon levy 0.176/unit" in text
    assert "PST 7%" not in text.replace("PST 7%  ", "") or text.count("PST 7%") == 1

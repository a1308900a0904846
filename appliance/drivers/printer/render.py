"""The exact bytes the printer driver would send, without a printer: for previews and support.

The document is played by the real `EscposPrinter` into python-escpos' `Dummy` printer, so what
`appliance receipt render` shows is decoded from the same ESC/POS stream a counter printer
gets, not from a second text renderer that could drift from it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from escpos.escpos import Escpos
from escpos.printer import Dummy

from appliance.drivers.config import PAPER_COLUMNS, PrinterBackend, PrinterConfig
from appliance.drivers.printer.document import Document
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.virtual.escpos_decoder import Mark, Printed, decode
from appliance.drivers.virtual.preview import render_png

PREVIEW_PRINTER = PrinterConfig(name="preview", backend=PrinterBackend.FILE)


def preview_config(base: PrinterConfig | None = None, width: int | None = None) -> PrinterConfig:
    """The configured printer's settings (model, code, columns), at `width` mm if given."""
    cfg = base or PREVIEW_PRINTER
    if width is not None:
        cfg = replace(cfg, paper_width=width, columns=PAPER_COLUMNS[width])
    return cfg


def escpos_bytes(document: Document, config: PrinterConfig = PREVIEW_PRINTER) -> bytes:
    dummy = Dummy(profile=config.model)

    def factory(_: PrinterConfig) -> Escpos:
        return dummy

    driver = EscposPrinter(config, factory=factory)
    driver.open()
    try:
        driver.print_document(document)
    finally:
        driver.close()
    return bytes(dummy.output)


def printed(document: Document, config: PrinterConfig = PREVIEW_PRINTER) -> list[Printed]:
    """The document as the paper would show it: decoded from the driver's own bytes."""
    return decode(escpos_bytes(document, config))


def preview_text(document: Document, config: PrinterConfig = PREVIEW_PRINTER) -> str:
    """One line per printed line, aligned as the printer aligns it; codes and cuts as markers."""
    return "\n".join(_aligned(p, document.columns) for p in printed(document, config)) + "\n"


def _aligned(p: Printed, columns: int) -> str:
    if p.kind is not Mark.TEXT:
        return str(p)
    width = columns // max(p.style.width, 1)
    if p.style.align == "center":
        return p.text.center(width).rstrip()
    if p.style.align == "right":
        return p.text.rjust(width)
    return p.text


def preview_png(
    document: Document, target: Path | str, config: PrinterConfig = PREVIEW_PRINTER
) -> Path:
    return render_png(printed(document, config), document.columns, target)

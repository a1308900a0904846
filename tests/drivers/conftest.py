"""Twins on real pseudo-terminals and the real drivers opened on their paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.drivers.config import (
    PrinterBackend,
    PrinterConfig,
    ReceiptCode,
    SerialSettings,
)
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.virtual.printer import VirtualPrinter


def printer_config(path: str, columns: int = 48, **kw: object) -> PrinterConfig:
    return PrinterConfig(
        name="printer",
        backend=PrinterBackend.SERIAL,
        serial=SerialSettings(port=path, baud=19200, timeout=0.5),
        columns=columns,
        paper_width=80 if columns == 48 else 58,
        receipt_code=kw.pop("receipt_code", ReceiptCode.QR),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def vprinter(tmp_path: Path) -> Iterator[VirtualPrinter]:
    twin = VirtualPrinter(tmp_path / "printer")
    twin.plug()
    yield twin
    twin.unplug()


@pytest.fixture
def printer(vprinter: VirtualPrinter) -> Iterator[EscposPrinter]:
    driver = EscposPrinter(printer_config(vprinter.path, status_query=True))
    driver.open()
    yield driver
    driver.close()

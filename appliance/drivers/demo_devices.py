"""The demo's devices: virtual twins on pseudo-terminals, driven by the real drivers.

`appliance demo` starts a printer, a customer display and a scale twin inside its own process
(each twin reads its pty on a thread), points a devices config at their paths and runs the till
on the real drivers exactly as on a counter. The drawer is kicked through the printer. Every
receipt or report the printer cuts is saved under ``$APPLIANCE_DATA/receipts/`` as text and PNG,
named by its receipt number, so the demo user can look at what the paper would show.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from appliance.drivers.config import (
    DevicesConfig,
    DisplayConfig,
    DrawerBackend,
    DrawerConfig,
    PrinterBackend,
    PrinterConfig,
    ReceiptCode,
    ScaleConfig,
    SerialSettings,
)
from appliance.drivers.virtual.display import VirtualDisplay
from appliance.drivers.virtual.escpos_decoder import Mark, Printed, as_text, decode
from appliance.drivers.virtual.preview import render_png
from appliance.drivers.virtual.printer import VirtualPrinter
from appliance.drivers.virtual.scale import VirtualScale

log = logging.getLogger(__name__)

DEMO_WEIGHT = Decimal("0.750")
CUT = b"\x1dV"  # GS V m [n]
_CUT_WITH_FEED = {65, 66, 97, 98, 103, 104}  # these modes take one more byte


def _job_end(data: bytes | bytearray, start: int = 0) -> int:
    """Index just past the first complete cut command at or after `start`, or -1."""
    at = data.find(CUT, start)
    if at < 0 or at + 2 >= len(data):
        return -1
    end = at + 3 + (1 if data[at + 2] in _CUT_WITH_FEED else 0)
    return end if end <= len(data) else -1


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text) or "print"


def job_name(printed: list[Printed]) -> str:
    """The receipt number (the QR/barcode on every receipt), else the report's title."""
    for p in printed:
        if p.kind in (Mark.QR, Mark.BARCODE):
            return p.data.split(" ")[-1] if p.kind is Mark.BARCODE else p.data
    for p in printed:
        if p.kind is Mark.TEXT and "REPORT" in p.text:
            return p.text.strip().split(" - ")[0].replace(" ", "-")
    return "print"


class SavingPrinter(VirtualPrinter):
    """A printer twin that files each cut job as ``<name>.txt`` and ``<name>.png``."""

    def __init__(self, link: Path | str, out_dir: Path, columns: int = 48) -> None:
        super().__init__(link, columns)
        self.out_dir = out_dir
        self.saved: list[Path] = []
        self._job = bytearray()
        self._jobs: queue.Queue[bytes | None] = queue.Queue()
        self._saved = threading.Condition()
        self._writer = threading.Thread(target=self._write_jobs, name="twin-saver", daemon=True)
        self._writer.start()

    def on_bytes(self, data: bytes) -> None:
        super().on_bytes(data)
        self._job += data
        while (end := _job_end(self._job)) >= 0:
            self._jobs.put(bytes(self._job[:end]))
            del self._job[:end]

    def stop_saving(self) -> None:
        self._jobs.put(None)
        self._writer.join(5)

    def wait_saved(self, count: int, timeout: float = 10.0) -> bool:
        with self._saved:
            return self._saved.wait_for(lambda: len(self.saved) >= count, timeout)

    def _write_jobs(self) -> None:
        # PNG rendering takes a moment: off the pty's reader thread.
        while (job := self._jobs.get()) is not None:
            try:
                path = self._save(job)
            except Exception:  # a preview problem must not stop the printer twin
                log.exception("could not save a printed job")
                continue
            with self._saved:
                self.saved.append(path)
                self._saved.notify_all()

    def _save(self, job: bytes) -> Path:
        # Drawer kicks travel on the same wire but are not part of the paper.
        printed = [p for p in decode(job) if p.kind is not Mark.DRAWER]
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = _safe_name(job_name(printed))
        path, n = self.out_dir / f"{stem}.txt", 1
        while path.exists():  # a reprint is a second file, never an overwrite
            n += 1
            path = self.out_dir / f"{stem}-copy{n}.txt"
        render_png(printed, self.columns, path.with_suffix(".png"))
        path.write_text(as_text(printed), encoding="utf-8")
        return path


@dataclass
class DemoTwins:
    """The demo's printer, display and scale twins, and a devices config pointing at them."""

    link_dir: Path
    receipts_dir: Path
    printer: SavingPrinter = field(init=False)
    display: VirtualDisplay = field(init=False)
    scale: VirtualScale = field(init=False)

    def __post_init__(self) -> None:
        self.link_dir.mkdir(parents=True, exist_ok=True)
        self.printer = SavingPrinter(self.link_dir / "printer", self.receipts_dir)
        self.display = VirtualDisplay(self.link_dir / "display")
        self.scale = VirtualScale(self.link_dir / "scale")
        self.scale.set_weight(DEMO_WEIGHT)

    def start(self) -> DemoTwins:
        for twin in (self.printer, self.display, self.scale):
            twin.plug()
        return self

    def stop(self) -> None:
        for twin in (self.printer, self.display, self.scale):
            twin.unplug()
        self.printer.stop_saving()

    def devices_config(self) -> DevicesConfig:
        def serial(path: str, **kw: object) -> SerialSettings:
            return SerialSettings(port=path, timeout=0.5, **kw)  # type: ignore[arg-type]

        return DevicesConfig(
            {
                "printer": PrinterConfig(
                    name="printer",
                    backend=PrinterBackend.SERIAL,
                    serial=serial(self.printer.path, baud=19200),
                    receipt_code=ReceiptCode.QR,
                    status_query=True,
                ),
                "drawer": DrawerConfig(
                    name="drawer", backend=DrawerBackend.PRINTER, open_level=True
                ),
                "display": DisplayConfig(
                    name="display",
                    serial=serial(self.display.path),
                    welcome=("Prairie Pine Co", "Welcome!"),
                ),
                "scale": ScaleConfig(
                    name="scale", serial=serial(self.scale.path, bytesize=7, parity="E")
                ),
            }
        )

"""The receipt printer driver: plays a `Document` through python-escpos.

Every ESC/POS command comes from python-escpos (`set`, `textln`, `qr`, `cut`, `cashdraw`, the
DLE EOT status constants); this module decides which to call. A write that fails means the
printer is gone: the driver marks itself OFFLINE and raises `DeviceOfflineError`; the supervisor
reopens it later.
"""

from __future__ import annotations

import contextlib
import logging
import os
import termios
import threading
from collections.abc import Callable

import serial
from escpos import exceptions as escpos_errors
from escpos.constants import RT_STATUS_ONLINE
from escpos.escpos import Escpos

from appliance.drivers.config import PrinterConfig, ReceiptCode
from appliance.drivers.errors import DeviceError, DeviceOfflineError, PrinterError
from appliance.drivers.printer.backends import device_path, make_escpos
from appliance.drivers.printer.document import Code, Cut, Document, Feed, KickDrawer, Symbology
from appliance.drivers.printer.document import Text as TextOp
from appliance.drivers.state import DeviceState, StatusCell

log = logging.getLogger(__name__)

# DLE EOT 1 (printer status) bits, from the ESC/POS reference.
STATUS_DRAWER_PIN3 = 0x04
STATUS_OFFLINE = 0x08

# termios.error: pyserial's flush (tcdrain) on a port whose device is gone.
_TRANSPORT_ERRORS = (
    OSError,
    termios.error,
    serial.SerialException,
    escpos_errors.DeviceNotFoundError,
)


class EscposPrinter:
    kind = "printer"

    def __init__(
        self, config: PrinterConfig, factory: Callable[[PrinterConfig], Escpos] = make_escpos
    ) -> None:
        self.name = config.name
        self.config = config
        self.columns = config.columns
        self._factory = factory
        self._lock = threading.RLock()
        self._printer: Escpos | None = None
        self._status = StatusCell(config.name, self.kind)

    @property
    def status(self) -> StatusCell:
        return self._status

    @property
    def symbology(self) -> Symbology | None:
        code = self.config.receipt_code
        return None if code is ReceiptCode.NONE else Symbology(code.value)

    def open(self) -> None:
        with self._lock:
            self._close_quietly()
            printer = self._factory(self.config)
            try:
                printer.open()
            except _TRANSPORT_ERRORS as exc:
                self._status.set(DeviceState.OFFLINE, str(exc).strip())
                raise DeviceOfflineError(self.name, exc) from exc
            self._printer = printer
            self._status.set(DeviceState.ONLINE)

    def close(self) -> None:
        with self._lock:
            self._close_quietly()

    def probe(self) -> None:
        with self._lock:
            self._require()
            path = device_path(self.config)
            if path is not None and not os.path.exists(path):
                raise self._lost(FileNotFoundError(f"{path} is gone"))
            if self.config.status_query:
                byte = self._status_byte()
                if byte is None:
                    raise self._lost(TimeoutError("no answer to DLE EOT 1"))
                if byte & STATUS_OFFLINE:
                    self._status.set(DeviceState.ERROR, "printer reports offline (cover, paper)")
                else:
                    self._status.set(DeviceState.ONLINE)

    def print_document(self, document: Document) -> None:
        with self._lock:
            printer = self._require()
            try:
                self._play(printer, document)
            except _TRANSPORT_ERRORS as exc:
                raise self._lost(exc) from exc
            except escpos_errors.Error as exc:
                # A bad job (e.g. a code python-escpos refuses), not a dead printer.
                raise PrinterError(self.name, f"cannot print {document.title}", exc) from exc

    def kick_drawer(self, pin: int) -> None:
        with self._lock:
            printer = self._require()
            try:
                printer.cashdraw(pin)
            except _TRANSPORT_ERRORS as exc:
                raise self._lost(exc) from exc

    def drawer_sensor(self) -> bool | None:
        """Drawer-kick connector pin 3 level from DLE EOT 1, or None if the printer is silent."""
        with self._lock:
            if not self.config.status_query:
                return None
            self._require()
            byte = self._status_byte()
            return None if byte is None else bool(byte & STATUS_DRAWER_PIN3)

    # -- internals -----------------------------------------------------------------------------

    def _play(self, p: Escpos, doc: Document) -> None:
        p.hw("INIT")
        for op in doc.ops:
            if isinstance(op, TextOp):
                p.set(
                    align=op.align.value,
                    bold=op.bold,
                    invert=op.invert,
                    normal_textsize=not op.double,
                    double_width=op.double,
                    double_height=op.double,
                )
                p.textln(op.text)
            elif isinstance(op, Feed):
                p.ln(op.lines)
            elif isinstance(op, Code):
                self._code(p, op)
            elif isinstance(op, Cut):
                p.cut(mode="PART" if op.partial else "FULL")
            elif isinstance(op, KickDrawer):
                p.cashdraw(op.pin)
        p.set(align="left", bold=False, invert=False, normal_textsize=True)

    def _code(self, p: Escpos, op: Code) -> None:
        p.set(align="center", normal_textsize=True, bold=False, invert=False)
        if op.symbology is Symbology.QR:
            # The printer draws the QR itself where its profile says it can (fast, sharp);
            # older models get python-escpos' image rendering instead.
            p.qr(op.data, native=p.profile.supports("qrCode"), size=5)
        else:
            # `_hw_barcode` rather than `barcode()`: the latter print()s which renderer it
            # chose to stdout, which is the cashier's console. "{B" selects code set B.
            p._hw_barcode(
                "{B" + op.data, "CODE128", height=60, width=2, pos="OFF", function_type="B"
            )
        p.ln()

    def _status_byte(self) -> int | None:
        printer = self._require()
        try:
            printer._raw(RT_STATUS_ONLINE)
            device = printer.device
            # python-escpos' Serial._read() asks for 16 bytes and so always waits out the
            # timeout; the status answer is a single byte.
            data = device.read(1) if isinstance(device, serial.Serial) else printer._read()
        except NotImplementedError:
            return None
        except _TRANSPORT_ERRORS as exc:
            raise self._lost(exc) from exc
        return data[0] if data else None

    def _require(self) -> Escpos:
        if self._printer is None:
            raise DeviceOfflineError(self.name)
        return self._printer

    def _lost(self, cause: BaseException) -> DeviceError:
        log.warning("printer %s lost: %s", self.name, cause)
        self._close_quietly()
        self._status.set(DeviceState.OFFLINE, str(cause))
        return DeviceOfflineError(self.name, cause)

    def _close_quietly(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except _TRANSPORT_ERRORS:
                # python-escpos flushes before closing, which fails on a vanished port and
                # leaves it open: close the raw handle so no fd leaks and __del__ stays quiet.
                with contextlib.suppress(*_TRANSPORT_ERRORS):
                    printer._device.close()
                printer._device = False

"""2x20 customer display (VFD) with the Epson DM-D / ESC/POS display command set, over serial.

python-escpos only drives a display hanging off a printer (ESC = pass-through); a stand-alone
pole display on its own port needs these few commands, so they are spelled out here as data.
"""

from __future__ import annotations

from decimal import Decimal

from appliance.drivers.config import DisplayConfig
from appliance.drivers.serial_port import SerialDevice

# Epson DM-D command set (also Bixolon BCD, Partner CD, most "ESC/POS" pole displays).
INITIALIZE = b"\x1b\x40"  # ESC @
CLEAR = b"\x0c"  # FF: clear screen, cursor home
CURSOR_HOME = b"\x0b"  # VT: cursor to top-left
OVERWRITE_MODE = b"\x1f\x01"  # US MD1: no scrolling when a line fills
CURSOR_OFF = b"\x1f\x43\x00"  # US C 0


def move_to(column: int, row: int) -> bytes:
    """US $ x y: 1-based column and row."""
    return b"\x1f\x24" + bytes([column, row])


class VfdDisplay(SerialDevice):
    kind = "display"

    def __init__(self, config: DisplayConfig) -> None:
        super().__init__(config.name, config.serial)
        self.width = config.columns
        self.welcome = config.welcome
        # Codepage 437 is what these displays power up in; unknown characters become '?'.
        self.encoding = "cp437"

    def on_open(self) -> None:
        port = self.port()
        port.write(INITIALIZE + OVERWRITE_MODE + CURSOR_OFF + CLEAR)

    def show(self, line1: str, line2: str = "") -> None:
        # Both lines always written in full: a shorter new text must not leave old characters.
        self.write(move_to(1, 1) + self._fit(line1) + move_to(1, 2) + self._fit(line2))

    def clear(self) -> None:
        self.write(CLEAR)

    def _fit(self, text: str) -> bytes:
        return text[: self.width].ljust(self.width).encode(self.encoding, errors="replace")


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def pair(label: str, value: str, width: int = 20) -> str:
    room = width - len(value) - 1
    return f"{label[:room]:<{width - len(value)}}{value}"


def idle_lines(welcome: tuple[str, str], width: int = 20) -> tuple[str, str]:
    return welcome[0].center(width), welcome[1].center(width)


def selling_lines(
    item_name: str, amount: Decimal, total: Decimal, width: int = 20
) -> tuple[str, str]:
    """Last line scanned on top, running total below: what a customer checks at the counter."""
    return pair(item_name, _money(amount), width), pair("TOTAL", _money(total), width)


def payment_lines(total: Decimal, change: Decimal, width: int = 20) -> tuple[str, str]:
    return pair("TOTAL", _money(total), width), pair("CHANGE", _money(change), width)

"""On the Linux console (TERM=linux), draw only glyphs the console font has.

The kernel's console font holds 256 (or 512) glyphs; the stock one is code page 437's. Textual
draws borders, scroll bars and list highlights with one-eighth blocks, quadrants, heavy and
rounded lines that it lacks, and the console shows each as its replacement glyph (a small
square): the sign-in list became rows of squares (issue 17 item 10). A font is not the fix:
none of the console fonts Debian ships (console-setup's Terminus, VGA, Fixed) has the one-eighth
blocks or quadrants, and a font loaded at boot must win a race with the console's hand-over to
the graphics driver (which drops it) before the till paints. So the till asks the console which
characters its font has and replaces each one it lacks by the nearest one it has, one cell for
one cell, in everything it writes. Terminal emulators (SSH, tmux, the developers' screens) are
left alone. tests/tui/test_console_glyphs.py runs the real app on a pty with TERM=linux; the
boot test's check of tty1 for replacement glyphs is not in CI yet (docs/store.md, power cuts).
"""

from __future__ import annotations

import ctypes
import fcntl
import re
from typing import ClassVar

from rich._unicode_data import load as load_cell_table  # the table rich.cells measures with
from textual.drivers.linux_driver import LinuxDriver

# Code page 437, as the kernel's built-in font maps it (drivers/tty/vt/cp437.uni): printable
# ASCII, the glyphs at 0x01-0x1f and 0x7f, and the upper half. What every fallback below must be.
STOCK_FONT = frozenset(
    bytes(range(0x20, 0x7F)).decode("ascii")
    + "☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼⌂"
    + bytes(range(0x80, 0x100)).decode("cp437")
)

# What Textual and the app draw that the stock font lacks -> the nearest glyph it has.
FALLBACKS: dict[str, str] = {
    # Lower blocks (1/8 .. 7/8) and the upper one-eighth block: tall borders, scroll bars.
    "▁": "_",
    "▂": "▄",
    "▃": "▄",
    "▅": "▄",
    "▆": "█",
    "▇": "█",
    "▔": "▀",
    # Left blocks (7/8 .. 1/8) and the right one-eighth block.
    "▉": "█",
    "▊": "█",
    "▋": "▌",
    "▍": "▌",
    "▎": "▌",
    "▏": "│",
    "▕": "│",
    # Quadrants.
    "▖": "▄",
    "▗": "▄",
    "▘": "▀",
    "▝": "▀",
    "▙": "█",
    "▛": "█",
    "▜": "█",
    "▟": "█",
    "▚": "▒",
    "▞": "▒",
    # Heavy, rounded and dashed lines: the double ones the font has.
    "━": "═",
    "┃": "║",
    "┏": "╔",
    "┓": "╗",
    "┗": "╚",
    "┛": "╝",
    "╍": "═",
    "╏": "║",
    "╭": "┌",
    "╮": "┐",
    "╯": "┘",
    "╰": "└",
    # The app's own punctuation.
    "—": "-",
    "–": "-",
    "−": "-",
    "…": ".",
}

# What Textual lays out in two cells (its own table: rich's, for the Unicode version it uses):
# an item or customer name from the back office in Chinese, Korean, or with an emoji. The
# console's font has none of them (it holds 512 glyphs at most), and a kernel draws some in one
# cell: the rest of the line (the price, the border) would move left. Two "?" keep every column
# where Textual put it.
_WIDE = re.compile(
    "["
    + "".join(
        f"{re.escape(chr(first))}-{re.escape(chr(last))}"
        for first, last, cells in load_cell_table("auto").widths
        if cells == 2
    )
    + "]"
)
WIDE_STANDIN = "??"
# Where the two-cell characters are: none below U+1100 or among the box lines and blocks
# Textual draws with (U+2500-U+259F). A quick look first, the full table only when needed.
_MAYBE_WIDE = re.compile("[\u1100-\u24ff\u25a0-\U0010ffff]")

GIO_UNIMAP = 0x4B66  # linux/kd.h: get the console font's Unicode map


class _UniPair(ctypes.Structure):
    _fields_ = (("unicode", ctypes.c_ushort), ("fontpos", ctypes.c_ushort))


class _UniMapDesc(ctypes.Structure):
    _fields_ = (("entry_ct", ctypes.c_ushort), ("entries", ctypes.POINTER(_UniPair)))


def console_font(fd: int) -> frozenset[str] | None:
    """The characters the console font on `fd` has a glyph for; None when `fd` is no virtual
    console (or the map cannot be read)."""
    size = 0xFFFF
    pairs = (_UniPair * size)()
    desc = _UniMapDesc(size, ctypes.cast(pairs, ctypes.POINTER(_UniPair)))
    try:
        fcntl.ioctl(fd, GIO_UNIMAP, desc)
    except OSError:
        return None
    return frozenset(chr(pairs[i].unicode) for i in range(min(desc.entry_ct, size)))


def translation(font: frozenset[str] | None) -> dict[int, str]:
    """A str.translate table: each fallback the font needs (it lacks the character) and can
    draw. `font` None (unknown): every fallback, all of them in the stock font."""
    if font is None:
        return {ord(c): v for c, v in FALLBACKS.items()}
    return {ord(c): v for c, v in FALLBACKS.items() if c not in font and v in font}


def narrow(text: str) -> str:
    """`text` with each two-cell character as two one-cell glyphs every console font has."""
    if text.isascii() or not _MAYBE_WIDE.search(text):  # a frame of Latin text and box lines
        return text
    return _WIDE.sub(WIDE_STANDIN, text)


class ConsoleDriver(LinuxDriver):
    """Textual's Linux driver, writing through the console's translation table."""

    table: ClassVar[dict[int, str]] = {}

    def write(self, data: str) -> None:
        super().write(narrow(data.translate(self.table)))


def console_driver(fd: int) -> type[LinuxDriver]:
    """The driver for a till drawing on the Linux console whose terminal is `fd`."""
    ConsoleDriver.table = translation(console_font(fd))
    return ConsoleDriver

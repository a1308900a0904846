"""On the Linux console (TERM=linux) the till draws only glyphs the console font has.

The kernel's stock font (code page 437's 256 glyphs) has no one-eighth blocks, quadrants,
heavy or rounded box lines: Textual's borders and scroll bars drawn with those showed as the
font's replacement glyph (a row of small squares on tty1, issue 17 item 10). The real app runs
here in a real pseudo-terminal; image/boot-test checks the real console in QEMU.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

from rich.cells import get_character_cell_size

from appliance.tui.console_glyphs import FALLBACKS, STOCK_FONT, narrow, translation

# A till app with a tall border (▊ ▎ ▔ ▁) and a list long enough for a scroll bar.
APP = """
from textual.widgets import OptionList, Static
from appliance.tui.app import LockedDownApp

class Probe(LockedDownApp):
    CSS = "#box { border: tall red; height: 5; } OptionList { height: 6; border: round blue; }"

    def compose(self):
        yield Static("BOXED", id="box")
        yield OptionList(*[f"cashier {i}" for i in range(40)])

    def on_mount(self):
        super().on_mount()
        self.set_timer(2.5, self.exit)

Probe().run()
"""


# An item name from the back office in another script: two cells each, for Textual.
WIDE_APP = """
from textual.widgets import Static
from appliance.tui.app import LockedDownApp

class Probe(LockedDownApp):
    CSS = "Static { border: round blue; width: 30; }"

    def compose(self):
        yield Static("咖啡豆 Coffee 🍎 1.50")

    def on_mount(self):
        super().on_mount()
        self.set_timer(2.5, self.exit)

Probe().run()
"""


def _screen_output(term: str, app: str = APP) -> str:
    """What `app` writes to a real 80x25 pseudo-terminal with TERM=`term`."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 80, 0, 0))
    env = {**os.environ, "TERM": term}
    proc = subprocess.Popen(
        [sys.executable, "-c", app],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    return out.decode("utf-8", errors="replace")


def test_on_the_linux_console_no_glyph_outside_the_stock_font_is_drawn() -> None:
    text = _screen_output("linux")
    assert "BOXED" in text and "cashier 1" in text
    drawn = {c for c in text if c > "~"}
    assert not drawn & set(FALLBACKS), sorted(drawn & set(FALLBACKS))
    assert drawn <= STOCK_FONT, sorted(drawn - STOCK_FONT)


def test_other_terminals_keep_textuals_own_glyphs() -> None:
    """The control: the same app in a terminal emulator draws the glyphs the console lacks (so
    the test above would see them)."""
    text = _screen_output("xterm-256color")
    assert "BOXED" in text
    assert {c for c in text if c > "~"} & set(FALLBACKS)


def test_only_what_the_font_lacks_is_replaced_and_only_by_what_it_has() -> None:
    font = frozenset("abc▄▀█▌▐│═║╔╗╚╝┌┐└┘_") | {"▁"}
    table = translation(font)
    assert ord("▁") not in table  # the font has it: drawn as itself
    assert table[ord("▔")] == "▀"
    assert table[ord("━")] == "═"
    assert all(len(v) == 1 and v in font for v in table.values())  # one cell for one
    # A console whose font cannot be read (not a VT): every fallback, all in the stock font.
    everything = translation(None)
    assert set(map(chr, everything)) == set(FALLBACKS)
    assert set(everything.values()) <= STOCK_FONT


def test_on_the_linux_console_a_wide_character_keeps_its_two_cells() -> None:
    """The console draws every character in one cell; Textual lays out 咖 or 🍎 in two. Drawn
    as they are, the rest of the line (the price, the right border) moves one cell left for
    each; drawn as two one-cell glyphs, every column stays where Textual put it."""
    text = _screen_output("linux", WIDE_APP)
    assert "Coffee" in text and "1.50" in text
    assert all(get_character_cell_size(c) == 1 for c in text if c > "~"), text
    assert "咖" not in text and "🍎" not in text


def test_a_wide_character_becomes_two_cells_the_font_has() -> None:
    table = translation(frozenset(STOCK_FONT))
    drawn = narrow("a咖b🍎".translate(table))
    assert len(drawn) == 6 and drawn.startswith("a") and drawn[3] == "b"
    assert set(drawn) <= STOCK_FONT

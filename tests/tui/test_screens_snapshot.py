"""Snapshots of the main screens at 80x25: sign-in, open shift, sell, pay, close shift.

What is compared is the screen's text, cell by cell, as `App.export_screenshot()` renders it
(the SVG's text runs put back on their rows and columns): layout, labels, amounts and the
footer's keys, not colours, which depend on the theme and the terminal. The fixed demo store,
fixed barcodes and no clock on these screens keep it deterministic.

Snapshots live in ``tests/tui/snapshots/<name>.txt``. After a deliberate change to a screen,
rewrite them with ``APPLIANCE_UPDATE_SNAPSHOTS=1 pytest tests/tui/test_screens_snapshot.py``
and review the diff. A failure also writes the actual text and the SVG to look at into
``$TMPDIR/appliance-snapshots/``.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.sell import MENU, SellScreen
from appliance.tui.screens.shift import CloseShiftScreen, OpenShiftScreen
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import SIZE, human, run_async, until, wedge_scan
from .test_day import shelf_barcodes

SNAPSHOTS = Path(__file__).with_name("snapshots")
FAILED = Path(tempfile.gettempdir()) / "appliance-snapshots"
UPDATE = os.environ.get("APPLIANCE_UPDATE_SNAPSHOTS") == "1"

# Rich's SVG export: one <text> per run of same-styled cells, x in units of the cell width
# (font size 20 x aspect 0.61), the row in the clip path's "-line-N".
_CELL = 20 * 0.61
_TEXT = re.compile(
    r'<text class="[^"]*" x="(?P<x>[\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[^)]*-line-(?P<row>\d+)\)">(?P<text>[^<]*)</text>'
)


def svg_text(svg: str, size: tuple[int, int] = SIZE) -> str:
    """The characters of an SVG screenshot as plain lines (trailing blanks trimmed)."""
    width, height = size
    rows = [[" "] * width for _ in range(height)]
    for m in _TEXT.finditer(svg):
        row = int(m["row"])
        column = round(float(m["x"]) / _CELL)
        for offset, char in enumerate(html.unescape(m["text"])):
            if row < height and column + offset < width:
                rows[row][column + offset] = " " if char == "\xa0" else char
    return "\n".join("".join(r).rstrip() for r in rows) + "\n"


def screen_text(app: App[None]) -> tuple[str, str]:
    svg = app.export_screenshot(title="snapshot")
    return svg_text(svg, (app.size.width, app.size.height)), svg


def check_snapshot(app: App[None], name: str) -> None:
    text, svg = screen_text(app)
    expected_file = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not expected_file.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        expected_file.write_text(text)
        if not UPDATE:
            raise AssertionError(f"new snapshot {expected_file.name} written: review and rerun")
        return
    expected = expected_file.read_text()
    if text != expected:
        FAILED.mkdir(exist_ok=True)
        (FAILED / f"{name}.txt").write_text(text)
        (FAILED / f"{name}.svg").write_text(svg)
    assert text == expected, (
        f"screen {name!r} differs from {expected_file}; "
        f"APPLIANCE_UPDATE_SNAPSHOTS=1 rewrites it.\n--- expected\n{expected}--- actual\n{text}"
    )


async def settle(pilot: Pilot[None]) -> None:
    """Let workers and timers land, and the status bar catch up (it refreshes every 2 s)."""
    await pilot.pause(0.3)
    app = pilot.app
    assert isinstance(app, PosApp)
    await app.refresh_status().wait()
    await pilot.pause(0.1)


def test_svg_text_puts_runs_on_their_cells() -> None:
    svg = (
        '<text class="t-r1" x="24.4" y="20" textLength="24.4" '
        'clip-path="url(#t-line-0)">ab</text>'
        '<text class="t-r2" x="0" y="44.4" textLength="36.6" '
        'clip-path="url(#t-line-1)">x&#160;&amp;</text>'
    )
    assert svg_text(svg, (6, 3)) == "  ab\nx &\n\n"


@run_async
async def test_main_screens_at_80x25(counter, backend: Backend) -> None:  # type: ignore[no-untyped-def]
    codes = shelf_barcodes(backend, 3)
    async with counter() as (app, pilot):
        assert isinstance(app, PosApp)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await settle(pilot)
        check_snapshot(app, "sign_in")

        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen))
        await human(pilot, "150", gap=0.01)
        await settle(pilot)
        check_snapshot(app, "open_shift")
        for _ in backend.counter.checkout.profile.modes:
            await pilot.press("enter")
            await pilot.pause(0.1)
        await until(pilot, lambda: isinstance(app.screen, SellScreen))

        sell = app.screen
        assert isinstance(sell, SellScreen)
        for n, code in enumerate(codes, 1):
            await wedge_scan(pilot, code)
            await until(pilot, lambda n=n: len(sell.cart.lines) == n)  # type: ignore[misc]
        await settle(pilot)
        check_snapshot(app, "sell")

        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, PayScreen))
        pay = app.screen
        assert isinstance(pay, PayScreen)
        await human(pilot, "5", gap=0.01)
        await pilot.press("f2")  # 5.00 cash of a split payment
        await until(pilot, lambda: len(pay.cart.payments) == 1)
        await settle(pilot)
        check_snapshot(app, "pay")

        await pilot.press("f7")  # the rest in cash, exact
        await until(pilot, lambda: pay.result is not None and pay.result.printed)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen) and not sell.cart.lines)

        await pilot.press("f12")
        for _ in range([m[0] for m in MENU].index("Close shift (Z report)")):
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CloseShiftScreen))
        await human(pilot, "160", gap=0.01)
        await settle(pilot)
        check_snapshot(app, "close_shift")

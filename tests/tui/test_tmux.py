"""Smoke test of the real entry point: `appliance demo` in tmux, TERM=linux, 80x25.

Signs in, opens the shift, scans a barcode typed at scanner speed (one burst of keys), pays
exact cash and finds the sale in the database.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from appliance.tui.console_glyphs import STOCK_FONT
from appliance.tui.screens.sell import MENU

TMUX = shutil.which("tmux")
MENU_ENTRIES = [entry for entry, _ in MENU]  # the F12 menu, as the tests walk it
APPLIANCE = Path(sys.executable).with_name("appliance")

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        assert TMUX is not None
        # A server of its own per session (-L): a server still exiting after the last test's
        # session ended cannot swallow this test's new session (a blank pane, seen in CI).
        done = subprocess.run(
            [TMUX, "-L", self.name, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = 30.0) -> str:
        check = what if callable(what) else (lambda screen: what in screen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"never saw {what!r} on screen:\n{self.screen()}")


@contextmanager
def tmux_session(command: str, data: Path, config: str = "") -> Iterator[Tmux]:
    """`command` in a TERM=linux 80x25 tmux pane; an exit is shown, then the pane stays."""
    session = Tmux(f"pos-test-{uuid.uuid4().hex[:8]}")
    # TERM is set in the pane's shell: tmux sets its own (tmux-256color) over a `-e TERM=...`,
    # and the till would then draw for a terminal emulator, not for the console.
    session.run(
        "new-session", "-d", "-s", session.name, "-x", "80", "-y", "25",
        "-e", f"APPLIANCE_DATA={data}", "-e", f"APPLIANCE_CONFIG={config}",
        f"export TERM=linux; {command}; echo EXITED $?; sleep 60",
    )  # fmt: skip
    try:
        yield session
    finally:
        session.run("kill-server")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_session(f"cd {tmp_path} && {APPLIANCE} demo", tmp_path / "demo") as session:
        yield session


def shelf_barcode(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT b.barcode FROM item_barcodes b JOIN items i ON i.item_code = b.parent "
            "WHERE i.is_weighed = 0 AND i.item_group != 'Fuel' AND b.barcode LIKE '06%' "
            "ORDER BY b.barcode LIMIT 1"
        ).fetchone()
    return str(row[0])


def sign_in_and_open_the_shift(tmux: Tmux, cash: str = "") -> None:
    """Ana (the first name, marked) with her demo PIN; the shift opened with `cash` counted."""
    tmux.keys("Enter")
    tmux.wait_for("PIN for Ana (cashier)")
    tmux.keys("1234", "Enter")
    tmux.wait_for("OPEN SHIFT")
    if cash:
        tmux.keys(cash)
    for _ in range(6):  # one Enter per mode of payment
        tmux.keys("Enter")
        time.sleep(0.3)
        if "Scan, or type" in tmux.screen():
            break
    tmux.wait_for("Scan, or type")


def pay_exact_cash(tmux: Tmux) -> None:
    """F10, exact cash (F7), Enter for the next customer."""
    tmux.keys("F10")
    tmux.wait_for("Amount due")
    tmux.keys("F7")
    tmux.wait_for("next customer")
    tmux.keys("Enter")
    tmux.wait_for("Scan, or type")


def test_demo_entry_point_sells_by_keystrokes(tmux: Tmux, tmp_path: Path) -> None:
    screen = tmux.wait_for("sign in", timeout=60)
    assert "DEMO PINs" in screen
    lines = screen.splitlines()
    assert len(lines) <= 25 and all(len(line) <= 80 for line in lines)
    sign_in_and_open_the_shift(tmux, cash="100")
    db = tmp_path / "demo" / "pos.db"
    code = shelf_barcode(db)
    tmux.keys(code, "Enter")  # one burst of keys, as a wedge scanner sends it
    tmux.wait_for(lambda s: "DUE" in s and "DUE                0.00" not in s)
    pay_exact_cash(tmux)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        sales = conn.execute("SELECT receipt_no, grand_total FROM pos_invoices").fetchall()
        barcode_sold = conn.execute(
            "SELECT count(*) FROM pos_invoice_items i JOIN item_barcodes b "
            "ON b.parent = i.item_code WHERE b.barcode = ?",
            (code,),
        ).fetchone()[0]
    assert len(sales) == 1 and sales[0][0] == "DEMO1-000001"
    assert barcode_sold == 1
    # Printed by the real driver into the demo's printer twin, which also keeps a PNG. The twin
    # decodes the bytes in its own thread, after the till has moved on to the next customer.
    receipts = tmp_path / "demo" / "receipts"
    deadline = time.monotonic() + 20
    while not (receipts / "DEMO1-000001.png").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (receipts / "DEMO1-000001.txt").exists()
    assert (receipts / "DEMO1-000001.png").exists()


def test_a_terminal_without_config_stays_on_the_not_ready_screen(tmp_path: Path) -> None:
    """The box fresh from the image, before DHCP: no config, no address. No crash loop."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rn", "true"], check=False).returncode:
        pytest.skip("no unprivileged network namespaces here")
    missing = tmp_path / "etc" / "appliance.toml"
    with tmux_session(f"{unshare} -rn {APPLIANCE} tui", tmp_path, str(missing)) as session:
        # The address is looked up in a worker: "Looking up..." first, then the answer.
        screen = session.wait_for(lambda s: "no network address yet" in s, timeout=60)
        assert "This till cannot sell yet" in screen and "For IT" in screen
        assert "not found" in screen
        time.sleep(6)  # past the next check: still up, still saying it
        screen = session.screen()
        assert "EXITED" not in screen and "This till cannot sell yet" in screen


def test_the_console_says_whose_pin_whole_units_labels_and_codes_in_full(
    tmux: Tmux, tmp_path: Path
) -> None:
    """Issue 17 (3, 4, 8, 9) on TERM=linux 80x25: the marked name and whose PIN, an unknown code
    said whole, half a piece refused, a price label sold as its weight, no one kept after
    sign-out."""
    screen = tmux.wait_for("sign in", timeout=60)
    rows = [line for line in screen.splitlines() if "(cashier)" in line or "(supervisor)" in line]
    assert any("> Ana" in r for r in rows) and not any("> Bo" in r for r in rows), screen
    sign_in_and_open_the_shift(tmux)

    tmux.keys("5901234123457", "Enter")
    screen = tmux.wait_for("Unknown barcode 5901234123457")
    (said,) = [line for line in screen.splitlines() if "Unknown barcode" in line]
    assert said.rstrip(" │▎").endswith("search by name"), said  # whole, not cut at 80

    db = tmp_path / "demo" / "pos.db"
    tmux.keys(shelf_barcode(db), "Enter")
    tmux.wait_for(lambda s: "DUE" in s and "DUE                0.00" not in s)
    tmux.keys("F2")
    tmux.wait_for("New quantity")
    for key in ("End", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "1.5"):
        tmux.keys(key)
    tmux.wait_for(lambda s: "1.5" in s.split("New quantity", 1)[1])
    tmux.keys("Enter")
    tmux.wait_for("is sold in whole Nos: 1.5 is not a whole number")

    tmux.keys("2204011002505", "Enter")  # a scale's price label: PLU 4011 for 2.50
    # The line: a weight below a kilogram, the price per kg, and the label's 2.50.
    tmux.wait_for(lambda s: re.search(r" 0\.\d{3} +\d+\.\d{2} +2\.50 ", s) is not None)
    pay_exact_cash(tmux)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        lines = conn.execute("SELECT qty, uom, rate, amount FROM pos_invoice_items").fetchall()
    piece, label = lines
    assert piece[0] in ("1", "1.000", 1)  # the refused 1.5 changed nothing
    qty, uom, _rate, amount = label
    assert uom == "Kg" and float(qty) < 1 and str(amount) in ("2.5", "2.50"), label
    receipt = tmp_path / "demo" / "receipts" / "DEMO1-000001.txt"
    deadline = time.monotonic() + 20
    while not receipt.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(
        "Kg x" in line and line.rstrip().endswith("2.50")
        for line in receipt.read_text().splitlines()
    )

    tmux.keys("F12")
    tmux.wait_for("Sign out")
    tmux.keys(*["Down"] * MENU_ENTRIES.index("Sign out"), "Enter")
    screen = tmux.wait_for("sign in")
    assert "Welcome" not in screen and "> " not in screen.split("sign in", 1)[1], screen


def test_the_counters_screens_draw_only_what_the_console_font_has(
    tmux: Tmux, tmp_path: Path
) -> None:
    """Issue 17 item 10, and issue 19's receipt journal, price check and quick keys, on
    TERM=linux 80x25: every glyph drawn is one the kernel's stock font has (no small squares),
    and each screen is whole in 25 rows."""
    seen: dict[str, str] = {}
    seen["sign in"] = tmux.wait_for("sign in", timeout=60)
    sign_in_and_open_the_shift(tmux)
    db = tmp_path / "demo" / "pos.db"
    tmux.keys(shelf_barcode(db), "Enter")
    seen["sell"] = tmux.wait_for(lambda s: "DUE" in s and "DUE                0.00" not in s)
    pay_exact_cash(tmux)
    for key, title, last in (
        ("C-f", "RECEIPTS", "not sent to ERPNext yet"),
        ("C-t", "PRICE CHECK", "Enter: check"),
        ("C-g", "QUICK KEYS", "Light Cream"),
    ):
        tmux.keys(key)
        seen[title] = tmux.wait_for(lambda s, t=title, e=last: t in s and e in s)  # type: ignore[misc]
        tmux.keys("Escape")
        tmux.wait_for(lambda s, t=title: t not in s and "Scan, or type" in s)  # type: ignore[misc]
        time.sleep(0.5)  # the sell screen takes keys again once it has its focus back
    for name, screen in seen.items():
        drawn = {c for c in screen if c > "~"}
        assert drawn <= STOCK_FONT, (name, sorted(drawn - STOCK_FONT), screen)
        assert len(screen.rstrip("\n").splitlines()) <= 25, (name, screen)


def test_the_console_taxes_an_unapproved_exemption_refunds_by_tender_and_reports_returns(
    tmux: Tmux, tmp_path: Path
) -> None:
    """Issue 17 (2, 5, 6) on TERM=linux 80x25: a customer made "Tax Exempt" by the cashier is
    taxed without a certificate and the screen says why; a sale paid by cash and card comes back
    by both, each said; the X and Z reports count the return and its total."""
    tmux.wait_for("sign in", timeout=60)
    sign_in_and_open_the_shift(tmux, cash="100")
    db = tmp_path / "demo" / "pos.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (code,) = conn.execute(
            "SELECT b.barcode FROM item_barcodes b JOIN items i ON i.item_code = b.parent "
            "WHERE i.item_group IN ('Household', 'Hardware') AND b.barcode LIKE '06%' "
            "ORDER BY b.barcode LIMIT 1"
        ).fetchone()
    tmux.keys(code, "Enter")
    taxed = tmux.wait_for(lambda s: "DUE" in s and "DUE                0.00" not in s)
    due = re.search(r"DUE +([\d,.]+)", taxed)
    assert due is not None, taxed

    tmux.keys("F5")
    tmux.wait_for("F2: new customer")
    tmux.keys("F2")
    tmux.wait_for("Name")
    tmux.keys("Maple School Board", "Enter")
    tmux.wait_for("Phone")
    tmux.keys("Enter")
    tmux.wait_for("British Columbia")
    tmux.keys("Down", "Enter")  # Alberta, British Columbia, ...
    tmux.wait_for("Tax category")
    tmux.keys("Down", "Enter")  # (none), Tax Exempt
    tmux.wait_for("Exemption certificate number")
    tmux.keys("Escape")
    screen = tmux.wait_for("taxed: no exemption certificate number")
    still = re.search(r"DUE +([\d,.]+)", screen)
    assert still is not None and still.group(1) == due.group(1), screen  # taxes kept

    tmux.keys("F10")
    tmux.wait_for("Amount due")
    tmux.keys("5", "F2")  # 5.00 in cash
    time.sleep(0.5)
    tmux.keys("F3")  # the rest on the credit card
    tmux.wait_for("next customer")
    tmux.keys("Enter")
    tmux.wait_for("Scan, or type")

    tmux.keys("F12")
    tmux.wait_for("Sign out")
    tmux.keys(*["Down"] * MENU_ENTRIES.index("Return / refund"), "Enter")
    tmux.wait_for("RETURN")
    tmux.keys("DEMO1-000001", "Enter")
    tmux.wait_for("choose lines")
    tmux.keys("F3")
    time.sleep(0.3)
    tmux.keys("F10")
    tmux.wait_for("Supervisor approval")
    tmux.keys("wrong size", "Enter")
    time.sleep(0.3)
    tmux.keys("9999", "Enter")
    screen = tmux.wait_for("hand back 5.00 cash")
    (said,) = [line for line in screen.splitlines() if "hand back" in line]
    assert re.search(r"[\d.]+ back to Credit Card, hand back 5\.00 cash", said), said

    reports = []
    for entry, title in (("X report", "X REPORT"), ("Close shift (Z report)", "CLOSE SHIFT")):
        tmux.keys("F12")
        tmux.wait_for("Sign out")
        tmux.keys(*["Down"] * MENU_ENTRIES.index(entry), "Enter")
        screen = tmux.wait_for(title)
        if title == "CLOSE SHIFT":
            modes = screen.split("expected amounts", 1)[1].count(" 0.00")  # a box per mode
            assert modes >= 2, screen
            for _ in range(modes):  # one Enter per mode: nothing counted
                tmux.keys("Enter")
                time.sleep(0.3)
        reports.append(tmux.wait_for(lambda s: "Sales 1  Returns 1 (-" in s))
        tmux.keys("Escape")
        time.sleep(0.5)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        payments = conn.execute(
            "SELECT p.mode_of_payment FROM pos_invoice_payments p "
            "JOIN pos_invoices s ON s.id = p.invoice_id WHERE s.is_return = 1"
        ).fetchall()
        (returned,) = conn.execute(
            "SELECT grand_total FROM pos_invoices WHERE is_return = 1"
        ).fetchone()
    assert sorted(m for (m,) in payments) == ["Cash", "Credit Card"]
    for screen in reports:  # the X report, then the Z report
        assert f"Returns 1 ({float(returned):,.2f})" in screen, screen

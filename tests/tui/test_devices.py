"""The till's `Peripherals` on the real drivers, against the demo's twins on real ptys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from appliance.counter.door import Counter
from appliance.drivers.demo_devices import DemoTwins
from appliance.drivers.devices import DevicePeripherals
from appliance.drivers.state import DeviceState
from appliance.drivers.supervisor import Supervisor
from appliance.store.models import PosInvoice
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.context import Context
from appliance.tui.screens.pay import PayScreen
from appliance.tui.screens.sell import SellScreen
from tests.drivers.sample import sample_receipt

from .conftest import SIZE, notices, run_async, status_bar, until, wedge_scan
from .test_day import menu, shelf_barcodes


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[DemoTwins]:
    t = DemoTwins(tmp_path / "devices", tmp_path / "receipts").start()
    yield t
    t.stop()


@pytest.fixture
def devices(twins: DemoTwins) -> Iterator[DevicePeripherals]:
    fast = Supervisor(first_retry=0.05, max_retry=0.2, probe_interval=0.1)
    p = DevicePeripherals(twins.devices_config(), supervisor=fast).start()
    assert p.wait_online(3.0)
    yield p
    p.stop()


def _until(check: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_a_receipt_is_printed_and_saved_as_text_and_png(
    devices: DevicePeripherals, twins: DemoTwins, tmp_path: Path
) -> None:
    receipt = sample_receipt()
    assert devices.print_receipt(receipt) is None  # queued, never waited for
    assert twins.printer.wait_saved(1)
    txt = tmp_path / "receipts" / f"{receipt.receipt_no}.txt"
    text = txt.read_text()
    assert "OFFLINE SALE" in text and f"[QR {receipt.receipt_no}]" in text
    with Image.open(txt.with_suffix(".png")) as img:
        assert img.width == 48 * 12 + 32
    devices.print_receipt(receipt)  # a reprint is a second file
    assert twins.printer.wait_saved(2)
    assert (tmp_path / "receipts" / f"{receipt.receipt_no}-copy2.txt").exists()


def test_drawer_display_scale_and_states(devices: DevicePeripherals, twins: DemoTwins) -> None:
    devices.open_drawer("sale")
    assert twins.printer.wait_for(b"\x1bp\x00")
    devices.show_on_display("Apples 1.99", "TOTAL 1.99")
    assert _until(lambda: twins.display.lines[1].startswith("TOTAL 1.99"))
    assert devices.read_weight() == Decimal("0.750")
    twins.scale.set_weight("1", motion=True)
    devices.weigh_timeout = 0.2
    assert devices.read_weight() is None  # unstable: the screen asks for a keyed weight
    views = {v.name: v.state for v in devices.states()}
    assert views == {k: DeviceState.ONLINE for k in ("printer", "drawer", "display", "scale")}


def test_printer_unplugged_mid_shift_queues_and_comes_back(
    devices: DevicePeripherals, twins: DemoTwins, tmp_path: Path
) -> None:
    changes: list[str] = []
    devices.watch(lambda: changes.append("x"))
    twins.printer.unplug()
    assert _until(lambda: devices.states()[0].state is DeviceState.OFFLINE)
    receipt = sample_receipt()
    devices.print_receipt(receipt)  # the sale is not held up
    twins.printer.plug()
    assert _until(lambda: devices.states()[0].state is DeviceState.ONLINE)
    assert twins.printer.wait_saved(1)
    assert (tmp_path / "receipts" / f"{receipt.receipt_no}.txt").exists()
    assert changes  # the status bar was told


def test_a_sale_committed_while_the_printer_is_unplugged_prints_when_it_returns(
    devices: DevicePeripherals, twins: DemoTwins, tmp_path: Path, backend: object
) -> None:
    from appliance.demo.masters import ean13
    from appliance.sales import cart as carts
    from appliance.sales.model import PaymentLine
    from appliance.tui.backend import Backend

    assert isinstance(backend, Backend)
    twins.printer.unplug()
    assert _until(lambda: devices.states()[0].state is DeviceState.OFFLINE)

    # The sale is taken and committed with the printer gone: nothing waits for paper.
    backend.call(Counter.open_shift, "ana@example.com", {"Cash": Decimal(0)})
    cart = backend.call(Counter.new_cart)
    cart = backend.call(Counter.on_till, lambda till: till.scan(cart, ean13("060000000010")))
    cart = carts.add_payment(cart, PaymentLine("Cash", cart.amount_due, type="Cash"))
    sale = backend.call(Counter.commit, cart, "ana@example.com")
    assert devices.print_receipt(backend.call(Counter.receipt, cart.offline_id)) is None

    twins.printer.plug()
    assert _until(lambda: devices.states()[0].state is DeviceState.ONLINE)
    assert twins.printer.wait_saved(1)
    printed = (tmp_path / "receipts" / f"{sale.receipt_no}.txt").read_text()
    assert sale.receipt_no in printed and "OFFLINE SALE" in printed


@run_async
async def test_the_cashier_hears_when_the_printer_holds_a_receipt_back(
    devices: DevicePeripherals, twins: DemoTwins, tmp_path: Path, backend: Backend
) -> None:
    """The printer's cable is pulled (its pty closed) before a sale is paid."""
    backend.call(Counter.open_shift, "ana@example.com", {"Cash": Decimal(0)})
    code = shelf_barcodes(backend, 1)[0]
    app = PosApp(Context(backend, devices, demo=True))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("enter", *"1234", "enter")
        await until(pilot, lambda: isinstance(app.screen, SellScreen))
        assert isinstance(app.screen, SellScreen)
        sell: SellScreen = app.screen
        await wedge_scan(pilot, code)
        await until(pilot, lambda: len(sell.cart.lines) == 1)

        twins.printer.unplug()
        await until(pilot, lambda: "P:OFF" in status_bar(app))
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, PayScreen))
        pay = app.screen
        assert isinstance(pay, PayScreen)
        await pilot.press("f7")
        await until(pilot, lambda: pay.result is not None)
        receipt_no = pay.result.receipt_no if pay.result else ""
        held = f"{receipt_no} not printed: printer offline. It prints when the printer is back."
        await until(pilot, lambda: held in notices(app))
        await until(pilot, lambda: "P:OFF(1)" in status_bar(app))
        with backend.counter.read() as session:  # the sale is saved whatever the paper does
            assert session.scalar(select(PosInvoice.receipt_no)) == receipt_no
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is sell and not sell.cart.lines)

        twins.printer.plug()
        await until(pilot, lambda: f"{receipt_no} printed (the printer is back)" in notices(app))
        await until(pilot, lambda: "P:ok " in status_bar(app))
        assert twins.printer.wait_saved(1)
        assert (tmp_path / "receipts" / f"{receipt_no}.txt").exists()

        # And a copy for the customer who asks: Menu > Reprint last receipt.
        await menu(app, pilot, "Reprint last receipt")
        assert twins.printer.wait_saved(2)
        assert (tmp_path / "receipts" / f"{receipt_no}-copy2.txt").exists()

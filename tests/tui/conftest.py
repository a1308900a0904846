"""A seeded demo store per test, a counter app on it, and keys typed at human or scanner speed."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from textual import events
from textual.app import App
from textual.pilot import Pilot

from appliance.config import load_config
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import DemoSize
from appliance.demo.seed import seed_demo
from appliance.drivers.peripherals import StandInPeripherals
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend, open_backend
from appliance.tui.context import Context
from appliance.tui.wedge import MAX_GAP
from appliance.tui.widgets.status_bar import StatusBar

SMALL = DemoSize(items=300, extra_barcodes=100, customers=60)
# Cheap to verify, still argon2id: sign-in tests check real hashes without waiting on them.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
SIZE = (80, 25)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("tui-template") / "pos.db"
    upgrade_to_head(db)
    engine = create_db_engine(db)
    seed_demo(make_session_factory(engine), SMALL, hasher=FAST_HASHER)
    engine.dispose()
    return db


@pytest.fixture
def data_dir(tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pos.db").write_bytes(seeded_template.read_bytes())
    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path))
    monkeypatch.setenv("APPLIANCE_CONFIG", str(DEMO_CONFIG))
    return tmp_path


@pytest.fixture
def backend(data_dir: Path) -> Iterator[Backend]:
    b = open_backend(load_config(DEMO_CONFIG), data_dir / "pos.db")
    yield b
    b.close()


@pytest.fixture
def devices(data_dir: Path) -> StandInPeripherals:
    return StandInPeripherals(data_dir / "receipts", weight=None)


@pytest.fixture
def counter(
    backend: Backend, devices: StandInPeripherals
) -> Callable[..., AsyncIterator[tuple[PosApp, Pilot[None]]]]:
    @asynccontextmanager
    async def run(
        lock_seconds: float = 120, demo: bool = True, status_every: float = 2.0
    ) -> AsyncIterator[tuple[PosApp, Pilot[None]]]:
        ctx = Context(backend, devices, demo=demo)
        app = PosApp(ctx, lock_seconds=lock_seconds, status_every=status_every)
        # Notifications on: a notice is part of what the cashier sees.
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause(0.2)
            yield app, pilot

    return run  # type: ignore[return-value]


async def human(pilot: Pilot[None], text: str, gap: float = 0.08) -> None:
    """Type like a person: a pause between keys, longer than any scanner's.

    Never shorter than the wedge detector's gap, however fast the machine: six quick digits
    and an Enter would rightly be taken for a scan.
    """
    for char in text:
        await pilot.press(char)
        await pilot.pause(max(gap, MAX_GAP * 1.5))


async def wedge_scan(pilot: Pilot[None], code: str) -> None:
    """A keyboard-wedge scanner: every key and the Enter arrive in one burst, no waits."""
    app = pilot.app
    driver = app._driver
    assert driver is not None
    for char in [*code, "enter"]:
        key = events.Key(char, char if char != "enter" else "\r")
        key.set_sender(app)
        driver.send_message(key)
    await pilot.pause(0.3)


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for workers (commits, searches) to land."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError("timed out waiting for the screen")
        await pilot.pause(0.05)
        waited += 0.05


def money(value: str) -> Decimal:
    return Decimal(value)


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async pilot test on its own event loop (no pytest async plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def notices(app: App[None]) -> str:
    """The notices (toasts) on the screen now, as the cashier reads them."""
    return " | ".join(" ".join(str(toast.render()).split()) for toast in app.screen.query("Toast"))


def status_bar(app: App[None]) -> str:
    """The status bar of the screen on top (dialogs have none: the one under them)."""
    for screen in reversed(app.screen_stack):
        bars = screen.query(StatusBar)
        if bars:
            return str(bars.first().render())
    return ""


async def start_selling(
    app: App[None], pilot: Pilot[None], pin: str = "1234", row: int = 0
) -> None:
    """Sign in as the cashier on that row of the list (Ana, Bo the supervisor, Cy) with their
    PIN; open the shift if asked (every float empty)."""
    from appliance.tui.screens.sell import SellScreen
    from appliance.tui.screens.shift import OpenShiftScreen

    await pilot.press(*["down"] * row, "enter", *pin, "enter")
    await until(pilot, lambda: isinstance(app.screen, OpenShiftScreen | SellScreen))
    while isinstance(app.screen, OpenShiftScreen):
        await pilot.press("enter")
        await pilot.pause(0.1)
    await until(pilot, lambda: isinstance(app.screen, SellScreen))

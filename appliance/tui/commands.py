"""`appliance tui` and `appliance demo`: start the counter screen (after seeding, for the demo)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from appliance import paths
from appliance.config import Config, ConfigError, load_config
from appliance.demo import DEMO_CONFIG
from appliance.store.catalog import StoreNotReadyError
from appliance.store.db import create_db_engine, make_session_factory
from appliance.tui.app import NotReadyApp, PosApp
from appliance.tui.backend import open_backend, readiness
from appliance.tui.context import Context
from appliance.tui.peripherals import Peripherals, StandInPeripherals

if TYPE_CHECKING:
    from appliance.tui.demo_devices import DemoTwins
    from appliance.tui.devices import DevicePeripherals

DEMO_DATA = Path("var/demo")


def _ignore_terminal_signals() -> None:
    # Textual turns the terminal's signal keys into key events already; this also covers a
    # signal sent some other way. SIGTERM (systemd stopping the service) still ends the app.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)


def _config(args: argparse.Namespace) -> Config:
    path = Path(args.config) if getattr(args, "config", None) else None
    return load_config(path)


def run_counter(cfg: Config, *, demo: bool = False) -> int:
    db = paths.db_path()
    _ignore_terminal_signals()
    state = readiness(db, cfg)
    if not state.ready:
        NotReadyApp(state, lambda: readiness(db, cfg)).run()
        if not readiness(db, cfg).ready:
            return 1
    try:
        backend = open_backend(cfg, db)
    except StoreNotReadyError as exc:
        print(f"tui: {exc}", file=sys.stderr)
        return 1
    # Device drivers (python-escpos, Pillow) load only when devices are used: every import
    # here counts against the till's cold start to the sign-in screen.
    twins: DemoTwins | None = None
    real: DevicePeripherals | None = None
    devices: Peripherals
    if demo and not cfg.devices.devices:
        from appliance.tui.demo_devices import DemoTwins

        # The demo's printer, display and scale: twins in this process, real drivers.
        twins = DemoTwins(paths.data_dir() / "devices", paths.data_dir() / "receipts").start()
        cfg = replace(cfg, devices=twins.devices_config())
    if cfg.devices.devices:
        from appliance.tui.devices import DevicePeripherals

        devices = real = DevicePeripherals(cfg.devices).start()
        real.wait_online(2.0)
    else:
        devices = StandInPeripherals(paths.data_dir() / "receipts")
    try:
        PosApp(Context(backend, devices, demo=demo), cfg.terminal.inactivity_lock_seconds).run()
    finally:
        if real is not None:
            real.stop()
        if twins is not None:
            twins.stop()
        backend.close()
    return 0


def tui(args: argparse.Namespace) -> int:
    try:
        cfg = _config(args)
    except ConfigError as exc:
        print(f"tui: {exc}", file=sys.stderr)
        return 2
    return run_counter(cfg, demo=bool(getattr(args, "demo", False)))


def prepare_demo() -> Config:
    """Point the environment at the demo store and seed it if it is empty."""
    # Unset or empty: the demo's own data directory and embedded config.
    if not os.environ.get("APPLIANCE_DATA"):
        os.environ["APPLIANCE_DATA"] = str(DEMO_DATA.resolve())
    if not os.environ.get("APPLIANCE_CONFIG"):
        os.environ["APPLIANCE_CONFIG"] = str(DEMO_CONFIG)
    cfg = load_config()
    db = paths.db_path()
    if not readiness(db, cfg).ready:
        # Seeding tools (Alembic, the demo generator) load only on the first run.
        from appliance.demo.masters import DemoSize
        from appliance.store.masters import seed_demo
        from appliance.store.migrate import upgrade_to_head

        print(f"Seeding the demo store in {db.parent} (first run only)...", file=sys.stderr)
        db.parent.mkdir(parents=True, exist_ok=True)
        upgrade_to_head(db)
        engine = create_db_engine(db)
        try:
            seed_demo(make_session_factory(engine), DemoSize())
        finally:
            engine.dispose()
    return cfg


def demo(args: argparse.Namespace) -> int:
    try:
        cfg = prepare_demo()
    except ConfigError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "seed_only", False):
        print(paths.db_path())
        return 0
    return run_counter(cfg, demo=True)

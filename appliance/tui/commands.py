"""`appliance tui` and `appliance demo`: start the counter screen (after seeding, for the demo).

Cold start to a usable sign-in is budgeted (DESIGN.md): until the sign-in screen is up, only
Textual and ``sqlite3`` load. The start-up checks and the cashiers' names are read with
``sqlite3``; SQLAlchemy and the store open on the backend's thread once the screen is painted
(`PosApp`), while the cashier picks a name and keys a PIN.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from appliance import paths
from appliance.config import Config, ConfigError, load_config
from appliance.counter.cashier import read_cashiers
from appliance.counter.readiness import Readiness, readiness, unconfigured
from appliance.demo import DEMO_CONFIG
from appliance.drivers.peripherals import Peripherals, StandInPeripherals
from appliance.provision_status import STATUS
from appliance.support.activity import TillActivity
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.context import Context

if TYPE_CHECKING:
    from appliance.drivers.demo_devices import DemoTwins
    from appliance.drivers.devices import DevicePeripherals

DEMO_DATA = Path("var/demo")
VAULT_NOTICE = Path("/run/motd.d/50-appliance-vault")  # image/rootfs/.../vault-setup writes it


def _ignore_terminal_signals() -> None:
    # Textual turns the terminal's signal keys into key events already; this also covers a
    # signal sent some other way. SIGTERM (systemd stopping the service) still ends the app.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)


def _until_ready(check: Callable[[], Readiness]) -> bool:
    """Show what the terminal needs until it has it; False if the screen ended before that."""
    state = check()
    if state.ready:
        return True
    print(f"tui: this till cannot sell yet: {' '.join(state.needs)}", file=sys.stderr)
    from appliance.tui.screens.not_ready import NotReadyApp  # only a till that cannot sell

    NotReadyApp(state, check).run()
    return check().ready


def configured_readiness(path: Path | None, db: Path) -> Readiness:
    """Readiness when even the config may be missing or wrong (`path` None: the default)."""
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        return unconfigured(exc)
    return readiness(db, cfg)


def run_counter(cfg: Config, *, demo: bool = False) -> int:
    db = paths.db_path()
    _ignore_terminal_signals()
    if not _until_ready(lambda: readiness(db, cfg)):
        return 1
    # Opened by the app once the sign-in screen is painted (`Backend.start`).
    backend = Backend(cfg, db, cashiers=read_cashiers(db))
    # Device drivers (python-escpos, Pillow) load only when devices are used: every import
    # here counts against the till's cold start to the sign-in screen.
    twins: DemoTwins | None = None
    real: DevicePeripherals | None = None
    devices: Peripherals
    if demo and not cfg.devices.devices:
        from appliance.drivers.demo_devices import DemoTwins

        # The demo's printer, display and scale: twins in this process, real drivers.
        twins = DemoTwins(paths.data_dir() / "devices", paths.data_dir() / "receipts").start()
        cfg = replace(cfg, devices=twins.devices_config())
    if cfg.devices.devices:
        from appliance.drivers.devices import DevicePeripherals

        # Not waited for: a printer that is off must not hold up sign-in; the status bar shows
        # each device as it comes online (`PosApp` watches them).
        devices = real = DevicePeripherals(cfg.devices).start()
    else:
        devices = StandInPeripherals(paths.data_dir() / "receipts")
    try:
        # Written from its own thread: a disk write is never in the middle of a scan.
        activity = TillActivity(paths.data_dir(), background=True)
        activity.idle()  # a till that starts has no cart: whatever the last one said is over
        ctx = Context(
            backend,
            devices,
            demo=demo,
            activity=activity,
            provisioning_status=STATUS,
            vault_notice=VAULT_NOTICE,
        )
        try:
            PosApp(ctx, cfg.terminal.inactivity_lock_seconds).run()
        finally:
            activity.close()
    finally:
        if real is not None:
            real.stop()
        if twins is not None:
            twins.stop()
        backend.close()
    error = backend.open_error
    if error is not None:  # the app ended at once: nothing was sold
        from appliance.counter.door import StoreNotReadyError

        if not isinstance(error, StoreNotReadyError):
            raise error
        print(f"tui: {error}", file=sys.stderr)
        return 1
    return 0


def tui(args: argparse.Namespace) -> int:
    path = Path(args.config) if getattr(args, "config", None) else None
    db = paths.db_path()
    _ignore_terminal_signals()
    # No config (a box fresh from the image), the image's placeholder or a bad one: the screen
    # says so and reads the file again until provisioning fixes it, rather than exiting into
    # the kiosk unit's restart loop.
    if not _until_ready(lambda: configured_readiness(path, db)):
        return 1
    try:
        cfg = load_config(path)
    except ConfigError as exc:  # changed again in the moment since
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
        from appliance.demo.seed import seed_demo_store

        print(f"Seeding the demo store in {db.parent} (first run only)...", file=sys.stderr)
        seed_demo_store(db)
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

"""A provisioning file the till refused is said on tty1: on sign-in in full, in the status bar.

Written by `appliance provision` as /run/appliance-provision/status.json (state "refused");
the reason holds parts of a hostile file, so it is shown as text, never as markup.
"""

from __future__ import annotations

import json
from pathlib import Path

from appliance.drivers.peripherals import StandInPeripherals
from appliance.provision import Targets, write_status
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.context import Context
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import SIZE, run_async, status_bar, until

REPO = Path(__file__).resolve().parents[2]
REASON = "provision.toml (id [b]T01-evil[/b]) from /dev/sdb: not signed (no provision.toml.sig)"


def screen_text(app: PosApp) -> str:
    return "\n".join(
        str(w.render()) for w in app.screen.query("*") if w.display and hasattr(w, "render")
    )


@run_async
async def test_a_refused_file_is_said_on_sign_in_and_in_the_status_bar(
    tmp_path: Path, backend: Backend, devices: StandInPeripherals
) -> None:
    targets = Targets(etc=tmp_path / "etc", status=tmp_path / "run/status.json")
    ctx = Context(backend, devices, provisioning_status=targets.status)
    app = PosApp(ctx, status_every=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await pilot.pause(0.5)
        assert "REFUSED" not in screen_text(app) + status_bar(app)
        # While the till runs (a stick plugged in later), the next refresh shows it.
        write_status(targets, "refused", REASON)
        await until(pilot, lambda: "PROVISIONING REFUSED" in status_bar(app))
        await until(pilot, lambda: "Provisioning file refused" in screen_text(app))
        shown = screen_text(app)
        assert "id [b]T01-evil[/b]) from /dev/sdb: not signed" in shown, shown
        # A later good file (or a reboot: /run is emptied) ends it.
        write_status(targets, "provisioned", "provisioned as T01")
        await until(pilot, lambda: "PROVISIONING REFUSED" not in status_bar(app))
        await until(pilot, lambda: "Provisioning file refused" not in screen_text(app))


def test_a_damaged_status_file_shows_nothing(tmp_path: Path) -> None:
    from appliance.provision_status import refusal

    status = tmp_path / "status.json"
    for text in ("", "{", "[]", json.dumps({"state": "refused", "reason": 7}), "\xff"):
        status.write_text(text, encoding="latin-1")
        assert refusal(status) == ""
    assert refusal(tmp_path / "missing.json") == ""
    status.write_text(json.dumps({"state": "refused", "reason": "a\x1b[2Jb\nc"}))
    assert refusal(status) == "a?[2Jb c"


def test_an_unprovisioned_till_says_why_its_file_was_not_applied(tmp_path: Path) -> None:
    """The "cannot sell yet" screen's needs: e.g. the image has a key and the file is unsigned."""
    from appliance.config import load_config
    from appliance.counter.readiness import readiness

    placeholder = load_config(REPO / "image/rootfs/etc/appliance/appliance.toml")
    status = tmp_path / "status.json"
    assert not any(
        "not applied" in n for n in readiness(tmp_path / "db", placeholder, status).needs
    )
    write_status(
        Targets(status=status), "error", "provision.toml (id T01-1) from /dev/sdb: not signed"
    )
    needs = readiness(tmp_path / "db", placeholder, status).needs
    assert (
        "The provisioning file was not applied: provision.toml (id T01-1) from /dev/sdb: not signed"
        in needs
    )

"""A till without a TPM says so on tty1 for IT (issue 13: "On a till without a TPM, say what
protects the vault and warn on tty1"). The image's vault-setup writes the warning to
/run/motd.d/50-appliance-vault (shown at every SSH login too); the sign-in screen shows it."""

from __future__ import annotations

from pathlib import Path

from appliance.drivers.peripherals import StandInPeripherals
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.context import Context
from appliance.tui.screens.sign_in import SignInScreen

from .conftest import SIZE, run_async, until
from .test_provisioning_notice import screen_text

WARNING = (
    "WARNING: this till has no TPM2. Its data vault's key is a file on the unencrypted root\n"
    "(/etc/cryptsetup-keys.d/vault.key): sales, customers and the ERPNext key are NOT protected\n"
)


@run_async
async def test_no_tpm_is_said_on_the_sign_in_screen(
    tmp_path: Path, backend: Backend, devices: StandInPeripherals
) -> None:
    notice = tmp_path / "50-appliance-vault"
    notice.write_text(WARNING)
    app = PosApp(Context(backend, devices, demo=True, vault_notice=notice))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "NO TPM2" in shown and "not protected against a stolen disk" in shown, shown
        # On the console's 80x25, with the demo's PINs too, everything still fits.
        for part in ("#sign-in-title", "#cashiers", "#pin", "#vault-notice", "#demo-pins"):
            region = app.screen.query_one(part).region
            assert region.height and region.y >= 0 and region.bottom <= SIZE[1] - 1, part


@run_async
async def test_a_till_with_a_tpm_says_nothing(
    tmp_path: Path, backend: Backend, devices: StandInPeripherals
) -> None:
    app = PosApp(Context(backend, devices, vault_notice=tmp_path / "absent"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert "TPM" not in screen_text(app)

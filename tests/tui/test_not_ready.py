"""A till that cannot sell yet: what it needs, and what IT needs to provision it.

The addresses and the SSH fingerprint are checked against the system's own tools (`ip`,
`ssh-keygen`) on this machine, and against an empty network namespace (`unshare -rn`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Static

from appliance.counter.readiness import Readiness
from appliance.demo import DEMO_CONFIG
from appliance.tui.commands import configured_readiness
from appliance.tui.host_identity import addresses, describe_host_key, identify
from appliance.tui.screens.not_ready import NotReadyApp, NotReadyScreen

from .conftest import SIZE, run_async, until
from .test_screens_snapshot import screen_text

# What the image ships in /etc/appliance/appliance.toml until the terminal is provisioned.
PLACEHOLDER = Path(__file__).parents[2] / "image/rootfs/etc/appliance/appliance.toml"


def make_host_key(directory: Path) -> Path:
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("ssh-keygen is not installed")
    key = directory / "ssh_host_ed25519_key"
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", str(key)], check=True)
    return key.with_suffix(".pub")


def keygen_fingerprint(pub: Path) -> str:
    # "256 SHA256:... comment (ED25519)"
    listed = ["ssh-keygen", "-lf", str(pub)]
    return subprocess.run(listed, capture_output=True, text=True, check=True).stdout.split()[1]


def test_the_fingerprint_is_the_one_ssh_keygen_prints(tmp_path: Path) -> None:
    pub = make_host_key(tmp_path)
    assert describe_host_key(pub) == f"{keygen_fingerprint(pub)} (ED25519)"
    assert describe_host_key(tmp_path / "missing.pub").startswith("no host key yet (")
    (tmp_path / "bad.pub").write_text("ssh-ed25519 !!!not-base64 t\n")
    assert describe_host_key(tmp_path / "bad.pub").startswith("unreadable ")


def test_addresses_are_the_ones_ip_reports() -> None:
    ip = shutil.which("ip")
    if ip is None:
        pytest.skip("iproute2 is not installed")
    done = subprocess.run([ip, "-j", "addr"], capture_output=True, text=True, check=True)
    links = json.loads(done.stdout)
    expected = []
    for family in ("inet", "inet6"):
        for link in links:
            infos = [
                a
                for a in link.get("addr_info", [])
                if a["family"] == family and a.get("scope") == "global"
            ]
            # The kernel's interface ioctl gives one IPv4 address per interface: the first.
            for info in infos[:1] if family == "inet" else infos:
                expected.append(f"{link['ifname']} {info['local']}")
    assert list(addresses()) == expected


def test_no_address_in_a_network_namespace_without_one() -> None:
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "-rn", "true"], capture_output=True, check=False)
    if unshare is None or probe.returncode != 0:
        pytest.skip("no unprivileged network namespaces here")
    code = (
        "import json; from appliance.tui.host_identity import addresses; "
        "print(json.dumps(addresses()))"
    )
    out = subprocess.run(
        [unshare, "-rn", sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


@run_async
async def test_no_config_shows_the_screen_until_provisioned(data_dir: Path, tmp_path: Path) -> None:
    """The box as IT unpacks it: no config file. The screen stays up and says what to do."""
    pub = make_host_key(tmp_path)
    config = tmp_path / "etc" / "appliance.toml"
    db = data_dir / "pos.db"

    def check() -> Readiness:
        return configured_readiness(config, db)

    app = NotReadyApp(check(), check, host_key=pub, every=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, NotReadyScreen)
        await until(pilot, lambda: screen.identity is not None)
        text, _ = screen_text(app)
        assert "This till cannot sell yet" in text
        unwrapped = "".join(line.strip() for line in text.splitlines())  # long paths wrap
        assert f"{config}: not found" in unwrapped
        assert "Ansible" in text
        host = identify(pub)
        for shown in (*host.addresses, host.hostname, keygen_fingerprint(pub)):
            assert shown in text
        if not host.addresses:
            assert "no network address yet" in text
        for key in ("ctrl+c", "ctrl+q", "escape"):
            await pilot.press(key)
        await pilot.pause(0.5)  # several checks later: still up, still saying it
        assert app.is_running and app.screen is screen

        # The image's placeholder: the file is read again, and the screen says what it is.
        config.parent.mkdir()
        config.write_text(PLACEHOLDER.read_text())
        needs = screen.query_one("#needs", Static)
        await until(pilot, lambda: "Not provisioned" in str(needs.render()))
        assert app.is_running

        # Provisioning writes the config; the store is already there: the till is ready.
        config.write_text(DEMO_CONFIG.read_text())
        await until(pilot, lambda: not app.is_running)
    assert check().ready

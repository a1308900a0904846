"""A fresh till's provisioning targets under a temporary root (the image's placeholder config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.provision import Targets

PLACEHOLDER = '[terminal]\nid = "UNPROVISIONED"\npos_profile = "Not provisioned"\n'


def fresh_till(root: Path) -> Targets:
    """/etc/appliance, root's authorized_keys and the status file, as `--root root` has them."""
    t = Targets(
        etc=root / "etc/appliance",
        ssh_keys=root / "root/.ssh/authorized_keys",
        status=root / "run/status.json",
    )
    t.etc.mkdir(parents=True)
    t.config.write_text(PLACEHOLDER)
    return t


@pytest.fixture
def till(tmp_path: Path) -> Targets:
    return fresh_till(tmp_path)

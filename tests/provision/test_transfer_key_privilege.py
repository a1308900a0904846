"""The till's transfer key is readable only by root: `appliance export` runs as root (over SSH or
Ansible, docs/agent.md); the counter (user pos) and the agent (pos-agent) never need it.

Before: root:appliance 0640, so the cashier's process could read it (and sign bundles)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.provision import APPLIED, Targets, provision
from appliance.store.migrate import upgrade_to_head
from tests.provision.test_provision import GOOD, PLACEHOLDER

REPO = Path(__file__).resolve().parents[2]
AS_ROOT = os.geteuid() == 0


@pytest.fixture
def till(tmp_path: Path) -> Targets:
    t = Targets(
        etc=tmp_path / "etc/appliance",
        ssh_keys=tmp_path / "root/.ssh/authorized_keys",
        status=tmp_path / "run/status.json",
    )
    t.etc.mkdir(parents=True)
    t.config.write_text(PLACEHOLDER)
    (tmp_path / "provision.toml").write_text(GOOD)
    assert provision(tmp_path / "provision.toml", t)[0] == APPLIED
    return t


def test_the_transfer_key_is_root_only(till: Targets) -> None:
    st = till.transfer_key.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    if AS_ROOT:
        assert (st.st_uid, st.st_gid) == (0, 0)


@pytest.mark.skipif(not AS_ROOT or not shutil.which("setpriv"), reason="needs root and setpriv")
def test_a_user_in_the_files_group_cannot_read_it(till: Targets) -> None:
    """Like the counter's user pos, which is in group appliance."""
    # The path's directories are open to everyone here; on a till /etc/appliance is 0750 too.
    for parent in till.transfer_key.parents:
        if parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o055)
    group = str(till.transfer_key.stat().st_gid)
    as_pos = ["setpriv", "--reuid=65534", "--regid=65534", f"--groups={group}"]
    done = subprocess.run(
        [*as_pos, "cat", str(till.transfer_key)],
        capture_output=True,
        check=False,
    )
    assert done.returncode != 0 and b"Permission denied" in done.stderr


def test_root_still_exports_with_it(till: Targets, tmp_path: Path) -> None:
    """`appliance export` with the provisioned config and key: it reads the key and runs."""
    data = tmp_path / "data"
    data.mkdir()
    upgrade_to_head(data / "pos.db")
    stick = tmp_path / "stick"
    stick.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env |= {"APPLIANCE_DATA": str(data), "APPLIANCE_CONFIG": str(till.config)}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "appliance.cli", "export", "--to", str(stick)),
            *("--key-file", str(till.transfer_key)),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bundle"] is None  # nothing waiting, but the key was read

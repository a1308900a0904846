"""The till's transfer key is readable only by root: `appliance export` runs as root (over SSH or
Ansible, docs/agent.md); the counter (user pos) and the agent (pos-agent) never need it.

Before: root:appliance 0640, so the cashier's process could read it (and sign bundles)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.provision import APPLIED, Targets, provision
from appliance.store.migrate import upgrade_to_head
from tests.provision.test_provision import GOOD

AS_ROOT = os.geteuid() == 0


@pytest.fixture
def provisioned(till: Targets, tmp_path: Path) -> Targets:
    (tmp_path / "provision.toml").write_text(GOOD)
    assert provision(tmp_path / "provision.toml", till)[0] == APPLIED
    return till


def test_the_transfer_key_is_root_only(provisioned: Targets) -> None:
    st = provisioned.transfer_key.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    if AS_ROOT:
        assert (st.st_uid, st.st_gid) == (0, 0)


@pytest.mark.skipif(not AS_ROOT or not shutil.which("setpriv"), reason="needs root and setpriv")
def test_a_user_in_the_files_group_cannot_read_it(provisioned: Targets) -> None:
    """Like the counter's user pos, which is in group appliance."""
    # The path's directories are open to everyone here; on a till /etc/appliance is 0750 too.
    for parent in provisioned.transfer_key.parents:
        if parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o055)
    group = str(provisioned.transfer_key.stat().st_gid)
    as_pos = ["setpriv", "--reuid=65534", "--regid=65534", f"--groups={group}"]
    done = subprocess.run(
        [*as_pos, "cat", str(provisioned.transfer_key)],
        capture_output=True,
        check=False,
    )
    assert done.returncode != 0 and b"Permission denied" in done.stderr


def test_root_still_exports_with_it(
    provisioned: Targets,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`appliance export` with the provisioned config and key: it reads the key and runs."""
    data = tmp_path / "data"
    data.mkdir()
    upgrade_to_head(data / "pos.db")
    stick = tmp_path / "stick"
    stick.mkdir()
    monkeypatch.setenv("APPLIANCE_DATA", str(data))
    monkeypatch.setenv("APPLIANCE_CONFIG", str(provisioned.config))
    key = str(provisioned.transfer_key)
    assert main(["export", "--to", str(stick), "--key-file", key]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["bundle"] is None  # nothing waiting, but the key was read

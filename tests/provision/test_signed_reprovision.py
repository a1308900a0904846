"""Provisioning files are authenticated: a provisioned till applies only files IT signed.

The attacks: a stick labelled APPL-PROV (or the disk's own partition) carrying a provision.toml
that replaces root's SSH keys and points the till at another ERPNext. Signatures are made here
with plain ``ssh-keygen -Y sign``, exactly as IT would without the appliance installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.provision import APPLIED, REFUSED, Targets, is_placeholder, provision
from tests.provision.test_provision import GOOD, KEY

NAMESPACE = "appliance-provision"
ATTACKER_SSH = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmE4UG+3cxeMF6pzgIGeXBrOe6ZNOOT0LSyqRWJeQbW evil@x"
)


def keypair(directory: Path, name: str) -> tuple[Path, str]:
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key, " ".join(key.with_suffix(".pub").read_text().split()[:2])


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    d = tmp_path_factory.mktemp("keys")
    return {name: keypair(d, name) for name in ("it", "other", "rotated")}


def ssh_sign(file: Path, key: Path) -> Path:
    sig = file.with_name(file.name + ".sig")
    sig.unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(key), str(file)],
        check=True,
        capture_output=True,
    )
    return sig


def write(directory: Path, text: str, name: str = "provision.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    f = directory / name
    f.write_text(text)
    f.with_name(f.name + ".sig").unlink(missing_ok=True)
    return f


def first_file(signing_pub: str) -> str:
    return GOOD.replace('id = "T01-1"', f'id = "T01-1"\nsigning_key = "{signing_pub}"')


def evil(pid: str = "T01-evil") -> str:
    """Re-provision: the attacker's SSH key, another ERPNext, a new id."""
    return (
        GOOD.replace('id = "T01-1"', f'id = "{pid}"\nreprovision = true')
        .replace("https://erp.example.com", "https://erp.attacker.example")
        .replace(KEY, ATTACKER_SSH)
    )


def snapshot(t: Targets) -> dict[str, str]:
    return {
        p.name: p.read_text()
        for p in (t.config, t.secret, t.ssh_keys, t.record, t.transfer_key, t.signing_key)
        if p.exists()
    }


@pytest.fixture
def provisioned(tmp_path: Path, till: Targets, keys: dict[str, tuple[Path, str]]) -> Targets:
    """A till provisioned by a file IT signed, which pinned IT's key (trust on first use)."""
    key, pub = keys["it"]
    f = write(tmp_path / "first", first_file(pub))
    ssh_sign(f, key)
    status, log = provision(f, till)
    assert status == APPLIED, log
    assert till.signing_key.read_text().split()[:2] == pub.split()
    return till


def assert_refused(t: Targets, f: Path, why: str, source: str = "/dev/sdb") -> None:
    """Provisioning from ``f`` is refused with ``why`` and changes nothing on the till."""
    before = snapshot(t)
    status, log = provision(f, t, source=source, do_scrub=True)
    assert status == REFUSED, log
    assert snapshot(t) == before, "a refused file changed the till"
    assert KEY in t.ssh_keys.read_text() and ATTACKER_SSH not in t.ssh_keys.read_text()
    assert "attacker" not in t.config.read_text()
    said = json.loads(t.status.read_text())
    assert said["state"] == "refused" and why in said["reason"], said
    assert any(why in line for line in log), log
    assert all("\n" not in line for line in log)


@pytest.mark.parametrize("where", ["stick", "partition"])
def test_an_unsigned_reprovision_file_is_refused(
    tmp_path: Path, provisioned: Targets, where: str
) -> None:
    assert_refused(provisioned, write(tmp_path / where, evil()), "not signed", f"/dev/{where}")


def test_a_file_signed_with_another_key_is_refused(
    tmp_path: Path, provisioned: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    f = write(tmp_path / "stick", evil())
    ssh_sign(f, keys["other"][0])
    assert_refused(provisioned, f, "signature does not verify")


def test_a_file_changed_after_signing_is_refused(
    tmp_path: Path, provisioned: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    honest = evil().replace("https://erp.attacker.example", "https://erp.example.com")
    f = write(tmp_path / "stick", honest.replace(ATTACKER_SSH, KEY))
    ssh_sign(f, keys["it"][0])
    f.write_text(evil())  # the same id, now with the attacker's key and ERPNext
    assert_refused(provisioned, f, "signature does not verify")


def test_the_signature_of_another_file_is_refused(
    tmp_path: Path, provisioned: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    other = write(tmp_path / "elsewhere", GOOD.replace('id = "T01-1"', 'id = "T09-1"'))
    sig = ssh_sign(other, keys["it"][0])
    f = write(tmp_path / "stick", evil())
    shutil.copy(sig, f.with_name("provision.toml.sig"))
    assert_refused(provisioned, f, "signature does not verify")


def test_a_replayed_old_signed_file_is_refused(
    tmp_path: Path, provisioned: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    """IT's own signed files, copied off a stick before they were applied and scrubbed."""
    it_key = keys["it"][0]
    old = write(tmp_path / "copy-2", evil("T01-2").replace("attacker", "old"))
    ssh_sign(old, it_key)
    kept = tmp_path / "attacker-copy"
    shutil.copytree(old.parent, kept)
    assert provision(old, provisioned, do_scrub=True)[0] == APPLIED
    newer = write(tmp_path / "copy-3", evil("T01-3").replace("attacker", "new"))
    ssh_sign(newer, it_key)
    assert provision(newer, provisioned)[0] == APPLIED
    before = snapshot(provisioned)
    status, log = provision(kept / "provision.toml", provisioned)
    assert status != APPLIED
    assert snapshot(provisioned) == before and "erp.new.example" in provisioned.config.read_text()
    assert any("T01-2" in line and "applied before" in line for line in log), log
    assert json.loads(provisioned.status.read_text())["state"] == "refused"


def test_a_till_provisioned_without_a_key_refuses_every_file(
    tmp_path: Path, till: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    assert provision(write(tmp_path / "first", GOOD), till)[0] == APPLIED
    assert not till.signing_key.exists()
    f = write(tmp_path / "stick", evil())
    ssh_sign(f, keys["other"][0])  # self-consistent, but nobody pinned this key
    assert_refused(till, f, "no provisioning signing key")


def test_a_signed_reprovision_applies_and_can_rotate_the_key(
    tmp_path: Path, provisioned: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    it_key, _ = keys["it"]
    rotated_key, rotated_pub = keys["rotated"]
    f = write(
        tmp_path / "rotate",
        evil("T01-2")
        .replace(ATTACKER_SSH, KEY)
        .replace("reprovision = true", f'reprovision = true\nsigning_key = "{rotated_pub}"'),
    )
    ssh_sign(f, it_key)
    status, log = provision(f, provisioned)
    assert status == APPLIED, log
    assert provisioned.signing_key.read_text().split()[:2] == rotated_pub.split()
    # The old key is retired: its next file is refused, the new key's applies.
    old = write(tmp_path / "old-key", evil("T01-3"))
    ssh_sign(old, it_key)
    assert provision(old, provisioned)[0] != APPLIED
    new = write(tmp_path / "new-key", evil("T01-4").replace(ATTACKER_SSH, KEY))
    ssh_sign(new, rotated_key)
    assert provision(new, provisioned)[0] == APPLIED


def test_a_key_set_in_the_image_refuses_an_unsigned_first_file(
    tmp_path: Path, till: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    key, pub = keys["it"]
    till.signing_key.write_text(pub + " built-in\n")
    f = write(tmp_path / "stick", GOOD)
    status, log = provision(f, till)
    assert status != APPLIED and is_placeholder(till.config)
    assert json.loads(till.status.read_text())["state"] == "error"
    assert any("not signed" in line for line in log), log
    ssh_sign(f, key)
    assert provision(f, till)[0] == APPLIED


def test_a_first_file_must_be_signed_by_the_key_it_names(
    tmp_path: Path, till: Targets, keys: dict[str, tuple[Path, str]]
) -> None:
    """A typo'd or foreign key would lock IT out of re-provisioning by stick."""
    f = write(tmp_path / "stick", first_file(keys["it"][1]))
    ssh_sign(f, keys["other"][0])
    status, log = provision(f, till)
    assert status != APPLIED and is_placeholder(till.config)
    assert any("signature does not verify" in line for line in log), log


def test_the_command_exits_non_zero_and_says_why(
    tmp_path: Path, provisioned: Targets, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path / "stick", evil())
    root = tmp_path  # Targets under tmp_path mirror /etc/appliance, /root/.ssh, /run/...
    rc = main(["provision", "--from", str(f), "--root", str(root), "--source", "/dev/sdb"])
    out = capsys.readouterr().out
    assert rc != 0
    assert "appliance-provision: refused:" in out and "not signed" in out, out


def test_it_makes_a_key_and_signs_with_the_appliance_command(
    tmp_path: Path, till: Targets, capsys: pytest.CaptureFixture[str]
) -> None:
    from appliance.provision_signing import new_key

    key = tmp_path / "it-provisioning"
    pub = new_key(key, "appliance provisioning key", passphrase=False)
    assert pub.startswith("ssh-ed25519 ") and (tmp_path / "it-provisioning.pub").exists()
    f = write(tmp_path / "stick", first_file(" ".join(pub.split()[:2])))
    assert main(["provision", "--sign", str(f), "--key", str(key)]) == 0
    out = capsys.readouterr().out
    assert "provision.toml.sig" in out and "terminal T01 as id T01-1" in out, out
    status, log = provision(f, till)
    assert status == APPLIED, log
    # A file the till would refuse to parse is not signed at all.
    bad = write(tmp_path / "bad", GOOD.replace("https://", "ftp://"))
    assert main(["provision", "--sign", str(bad), "--key", str(key)]) != 0
    assert "[erpnext] url" in capsys.readouterr().err
    assert not (tmp_path / "bad/provision.toml.sig").exists()
    # A key is never overwritten.
    assert main(["provision", "--new-signing-key", str(key)]) != 0
    assert "already exists" in capsys.readouterr().err


def test_it_signs_with_a_passphrase_protected_key_on_a_terminal(
    tmp_path: Path, till: Targets
) -> None:
    """ssh-keygen asks for the passphrase on the terminal (a real pseudo-terminal here)."""
    import os
    import pty
    import sys
    import time

    key = tmp_path / "it-provisioning"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "correct horse", "-f", str(key)], check=True
    )
    f = write(tmp_path / "stick", GOOD)
    pid, fd = pty.fork()
    if pid == 0:  # the child: IT at a terminal
        argv = [sys.executable, "-m", "appliance.cli", "provision", "--sign", str(f), "--key"]
        os.execv(sys.executable, [*argv, str(key)])
    screen, asked, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child exited: the terminal is gone
            break
        screen += chunk
        if b"passphrase" in screen and not asked:
            os.write(fd, b"correct horse\n")
            asked = True
    _, wait = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait) == 0, screen
    assert asked and b"signed with SHA256:" in screen and b"correct horse" not in screen
    assert provision(f, till)[0] == APPLIED
    assert (
        till.signing_key.read_text().split()[:2] == key.with_suffix(".pub").read_text().split()[:2]
    )

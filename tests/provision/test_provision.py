"""First-boot provisioning: validated by the config loader, secrets kept out of the file."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.provision import (
    APPLIED,
    INVALID,
    NOTHING_TO_DO,
    REFUSED,
    Targets,
    is_placeholder,
    provision,
)
from tests.provision.conftest import PLACEHOLDER

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBEgAMxn/z3z9oP9vA0hjoqlO3aY55eWmGJYwtuVVuNi it@test"
GOOD = f"""
# IT's file for the first till of Main Street.
[provision]
id = "T01-1"

[terminal]
id = "T01"
branch = "Main Street"

[erpnext]
url = "https://erp.example.com"
api_key = "k3y"
api_secret = "s3cr3t-value"
pos_profile = "Main POS"

[ssh]
authorized_keys = ["{KEY}"]

[transfer]
key = "{"ab" * 32}"
"""


def _file(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "provision.toml"
    f.write_text(text)
    return f


def test_applies_to_a_placeholder_and_scrubs_the_secrets(tmp_path: Path, till: Targets) -> None:
    f = _file(tmp_path, GOOD)
    status, log = provision(f, till, source="/dev/vda2", do_scrub=True)
    assert status == APPLIED, log
    cfg = load_config(till.config)
    assert cfg.terminal.id == "T01" and cfg.erpnext and cfg.erpnext.pos_profile == "Main POS"
    assert str(cfg.erpnext.api_secret_file) == "/etc/appliance/erpnext.secret"
    assert str(cfg.transfer.key_file) == "/etc/appliance/transfer.key"
    assert till.secret.read_text() == "s3cr3t-value\n"
    assert stat.S_IMODE(till.secret.stat().st_mode) == 0o600
    assert "s3cr3t" not in till.config.read_text()
    assert till.ssh_keys.read_text() == KEY + "\n"
    assert stat.S_IMODE(till.ssh_keys.stat().st_mode) == 0o600
    record = json.loads(till.record.read_text())
    assert record["branch"] == "Main Street" and record["provision_id"] == "T01-1"
    assert json.loads(till.status.read_text())["state"] == "provisioned"
    # The file on the stick: no secrets left, everything else (and IT's comments) kept.
    scrubbed = f.read_text()
    assert "s3cr3t" not in scrubbed and "abab" not in scrubbed
    assert "# IT's file for the first till" in scrubbed
    data = tomllib.loads(scrubbed)
    assert "api_secret" not in data["erpnext"] and data["erpnext"]["api_key"] == "k3y"
    assert not any("s3cr3t" in line for line in log)
    assert not is_placeholder(till.config)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("https://erp.example.com", "ftp://erp"), "[erpnext] url: must be an http(s) URL"),
        (('id = "T01"', 'id = "T 01"'), "[terminal] id: must be 1-16 letters"),
        (('api_secret = "s3cr3t-value"\n', ""), "[erpnext] api_secret: is required"),
        # The agent refuses such a secret (secret_file): provisioning must not write it. The
        # provisioning fuzz found the carriage return.
        (('"s3cr3t-value"', '"s3cr3t\\rvalue"'), "[erpnext] api_secret: has a line break at"),
        (('"s3cr3t-value"', '"s3cr3t value"'), "[erpnext] api_secret: has white space at"),
        (('"s3cr3t-value"', '"s3cr3t\\u0000value"'), "[erpnext] api_secret: has a control"),
        (("ssh-ed25519 AAAAC3", "ssh-ed25519 AAAAX3"), "[ssh] authorized_keys[0]"),
        (('pos_profile = "Main POS"', 'pos_profil = "Main POS"'), "[erpnext] pos_profil"),
        (('key = "abab', 'key = "zz'), "[transfer] key: must be at least 64 hex digits"),
    ],
)
def test_errors_name_the_key_and_leave_the_till_unprovisioned(
    tmp_path: Path, till: Targets, edit: tuple[str, str], message: str
) -> None:
    f = _file(tmp_path, GOOD.replace(*edit))
    status, log = provision(f, till, do_scrub=True)
    assert status == INVALID
    assert message in log[0], log
    assert till.config.read_text() == PLACEHOLDER and not till.secret.exists()
    reason = json.loads(till.status.read_text())
    assert reason["state"] == "error" and message in reason["reason"]
    assert "s3cr3t" not in reason["reason"]


def test_a_provisioned_till_ignores_the_file_unless_reprovision_with_a_new_id_and_signed(
    tmp_path: Path, till: Targets
) -> None:
    assert provision(_file(tmp_path, GOOD), till)[0] == APPLIED
    again = GOOD.replace('id = "T01-1"', 'id = "T01-2"').replace("k3y", "new-key")
    assert provision(_file(tmp_path, again), till)[0] == NOTHING_TO_DO
    assert 'api_key = "k3y"' in till.config.read_text()
    same_id = again.replace('id = "T01-2"', 'id = "T01-1"\nreprovision = true')
    assert provision(_file(tmp_path, same_id), till)[0] == NOTHING_TO_DO
    # Unsigned, it is refused (test_signed_reprovision.py: signed re-provisioning).
    reprovision = again.replace('id = "T01-2"', 'id = "T01-2"\nreprovision = true')
    assert provision(_file(tmp_path, reprovision), till)[0] == REFUSED
    assert 'api_key = "k3y"' in till.config.read_text()


def test_check_only_validates(tmp_path: Path, till: Targets) -> None:
    f = _file(tmp_path, GOOD)
    status, log = provision(f, till, check=True, do_scrub=True)
    assert status == APPLIED and "valid" in log[-1]
    assert till.config.read_text() == PLACEHOLDER and f.read_text() == GOOD


@pytest.mark.parametrize("value", ["Main\\u007fPOS", "Caf\\u00e9 \\U0001F600", 'a \\"b\\" \\\\ c'])
def test_what_is_applied_is_a_config_the_till_can_read(
    tmp_path: Path, till: Targets, value: str
) -> None:
    """Found by test_fuzz: DEL and characters beyond the BMP once made appliance.toml unreadable."""
    text = GOOD.replace('pos_profile = "Main POS"', f'pos_profile = "{value}"')
    status, log = provision(_file(tmp_path, text), till)
    assert status == APPLIED, log
    expected = tomllib.loads(text)["erpnext"]["pos_profile"]
    cfg = load_config(till.config)
    assert cfg.erpnext and cfg.erpnext.pos_profile == expected

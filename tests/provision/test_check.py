"""`appliance provision --check`: keys parsed as OpenSSH would, files as Windows editors save
them, and with --online the URL, secret and POS Profile asked of ERPNext (the fake, over HTTP).
Also: the till's hostname becomes its terminal id."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.demo.masters import DemoSize, all_masters
from appliance.provision import APPLIED, INVALID, Targets, hostname_for, provision
from fakeerp import FakeERPNext
from tests.provision.test_provision import GOOD, KEY

TRUNCATED = KEY.split()[0] + " " + KEY.split()[1][:-8] + " it@test"


def _blob(*parts: bytes) -> str:
    return base64.b64encode(b"".join(struct.pack(">I", len(p)) + p for p in parts)).decode()


def _with_key(line: str) -> str:
    return GOOD.replace(KEY, line)


def _check(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    f = tmp_path / "provision.toml"
    f.write_bytes(content)
    code = main(["provision", "--check", "--from", str(f)])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize(
    ("line", "why"),
    [
        # Cut short on a 4-character boundary: still base64, no longer a key.
        (TRUNCATED, "the key is not a whole ssh-ed25519 key: it ends early"),
        (KEY.split()[0] + " " + KEY.split()[1][:-7], "the key's base64 part is damaged"),
        # Valid base64 with the right type name, but the key itself cut short: what a copy from
        # a narrow terminal window gives. Accepted before, and IT was locked out.
        ("ssh-ed25519 " + _blob(b"ssh-ed25519", b"\x01" * 31), "not a whole ssh-ed25519 key"),
        ("ssh-ed25519 " + _blob(b"ssh-ed25519", b"\x01" * 32, b"x"), "not a whole ssh-ed25519"),
        ("ssh-rsa " + _blob(b"ssh-rsa", b"\x01\x00\x01"), "not a whole ssh-rsa key"),
        ("ssh-rsa " + _blob(b"ssh-rsa", b"\x01\x00\x01", b"\x00" + b"\xff" * 64), "too short"),
    ],
)
def test_a_damaged_or_truncated_key_is_refused_before_it_locks_it_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, why: str
) -> None:
    code, said = _check(tmp_path, _with_key(line).encode(), capsys)
    assert code == INVALID
    assert "[ssh] authorized_keys[0]" in said and why in said, said


def test_a_real_key_of_each_kind_ssh_keygen_makes_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = []
    for kind, bits in (("ed25519", None), ("rsa", "3072"), ("ecdsa", "384")):
        key = tmp_path / f"id_{kind}"
        args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"it@{kind}", "-f", str(key)]
        subprocess.run([*args, *(["-b", bits] if bits else [])], check=True)
        lines.append((tmp_path / f"id_{kind}.pub").read_text().strip())
    text = GOOD.replace(f'["{KEY}"]', "[" + ", ".join(f'"{k}"' for k in lines) + "]")
    code, said = _check(tmp_path, text.encode(), capsys)
    assert code == APPLIED, said


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: b"\xef\xbb\xbf" + t.encode(),  # Notepad's "UTF-8 with BOM"
        lambda t: t.encode("utf-16"),  # "Unicode": UTF-16 LE with its BOM
        lambda t: t.encode("utf-16-be").join([b"\xfe\xff", b""]),
        lambda t: t.replace("\n", "\r\n").encode("utf-16-le").join([b"\xff\xfe", b""]),
    ],
    ids=["utf8-bom", "utf16", "utf16-be", "utf16-crlf"],
)
def test_a_file_saved_with_a_bom_or_as_utf16_is_read(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    till: Targets,
    encode: Callable[[str], bytes],
) -> None:
    content = encode(GOOD)
    code, said = _check(tmp_path, content, capsys)
    assert code == APPLIED, said
    f = tmp_path / "provision.toml"
    status, log = provision(f, till, do_scrub=True)
    assert status == APPLIED, log
    assert till.secret.read_text() == "s3cr3t-value\n"
    assert "s3cr3t" not in f.read_text(encoding="utf-8")  # scrubbed, now plain UTF-8


def test_a_one_line_utf16_file_with_no_newline_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, said = _check(tmp_path, '[terminal]\r\nid = "T01"'.encode("utf-16"), capsys)
    assert code == INVALID
    assert "[erpnext]: is required" in said and "not UTF-8" not in said


def test_hostname_becomes_the_terminal_id(tmp_path: Path, till: Targets) -> None:
    f = tmp_path / "provision.toml"
    f.write_text(GOOD.replace('id = "T01"\n', 'id = "Main_T01"\n'))
    hosts = till.hostname.with_name("hosts")
    hosts.write_text("127.0.0.1\tlocalhost\n127.0.1.1\tpos-till\n::1\t\tlocalhost\n")
    status, log = provision(f, till)
    assert status == APPLIED, log
    assert hostname_for("Main_T01") == "main-t01"  # '_' is no hostname character
    assert till.hostname.read_text() == "main-t01\n"
    assert hosts.read_text() == "127.0.0.1\tlocalhost\n::1\t\tlocalhost\n127.0.1.1\tmain-t01\n"
    assert "hostname main-t01" in " ".join(log)


@pytest.fixture
def erp() -> Iterator[FakeERPNext]:
    with FakeERPNext(
        all_masters(DemoSize(items=5, customers=2)), api_key="k3y", api_secret="s3cr3t-value"
    ) as fake:
        yield fake


def _online(
    tmp_path: Path, erp: FakeERPNext, capsys: pytest.CaptureFixture[str], **swap: str
) -> tuple[int, str]:
    text = GOOD.replace("https://erp.example.com", erp.url)
    for old, new in swap.items():
        text = text.replace(old, new)
    f = tmp_path / "provision.toml"
    f.write_text(text)
    code = main(["provision", "--check", "--online", "--from", str(f)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_online_check_asks_erpnext_for_the_key_and_the_pos_profile(
    tmp_path: Path, erp: FakeERPNext, capsys: pytest.CaptureFixture[str]
) -> None:
    code, said = _online(tmp_path, erp, capsys)
    assert code == APPLIED, said
    assert f"ERPNext {erp.url}: key k3y is pos-agent@example.com" in said
    assert "POS Profile Main POS: found" in said
    assert "s3cr3t-value" not in said

    code, said = _online(tmp_path, erp, capsys, **{"s3cr3t-value": "wrong-secret"})
    assert code == INVALID
    assert "ERPNext refused the key k3y and its secret (HTTP 401)" in said
    assert "wrong-secret" not in said

    code, said = _online(tmp_path, erp, capsys, **{'"Main POS"': '"Mian POS"'})
    assert code == INVALID and "POS Profile Mian POS: ERPNext has none" in said

    port = erp.url.rsplit(":", 1)[1]
    code, said = _online(tmp_path, erp, capsys, **{f":{port}": ":9"})
    assert code == INVALID and "cannot reach ERPNext" in said


def test_check_asks_ssh_keygen_about_a_key_only_openssh_can_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The right shape, but no point on the curve: only OpenSSH's own parser sees it."""
    off_curve = "ecdsa-sha2-nistp256 " + _blob(
        b"ecdsa-sha2-nistp256", b"nistp256", b"\x04" + b"\x01" * 64
    )
    code, said = _check(tmp_path, _with_key(off_curve + " it@x").encode(), capsys)
    assert code == INVALID
    assert "[ssh] authorized_keys[0] (SHA256:" in said
    assert "ssh-keygen cannot read it" in said


@pytest.mark.parametrize(("terminal_id", "host"), [("_T1_", "t1"), ("__", "pos"), ("A__B", "a--b")])
def test_a_terminal_id_with_an_outer_underscore_still_gives_a_valid_hostname(
    tmp_path: Path, till: Targets, terminal_id: str, host: str
) -> None:
    """A till accepts ``_T1_`` as its id; ``-t1-`` is no hostname (RFC 1123: a label neither
    starts nor ends with ``-``; a name starting with ``-`` reads as an option to ssh, ping,
    hostname itself), so the DHCP lease and IT's ``ssh`` would trip on it."""
    f = tmp_path / "provision.toml"
    f.write_text(GOOD.replace('id = "T01"\n', f'id = "{terminal_id}"\n'))
    status, log = provision(f, till)
    assert status == APPLIED, log
    assert till.hostname.read_text() == host + "\n"


@pytest.mark.parametrize("sep", ["\\n", "\\r", "\\r\\n", "\\u2028"])
def test_a_key_hiding_a_second_line_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], till: Targets, sep: str
) -> None:
    """One list entry, one fingerprint in the log and the record, but a line break in its
    comment: authorized_keys would get a second, unlisted line (another key, or one with
    ``command=``/``from=`` options) that no check read and no log names."""
    other = KEY.replace("it@test", "nobody-sees-me")
    hidden = f"{KEY}{sep}{other}"
    code, said = _check(tmp_path, _with_key(hidden).encode(), capsys)
    assert code == INVALID, said
    assert "[ssh] authorized_keys[0]" in said and "one line" in said, said
    status, log = provision(tmp_path / "provision.toml", till)
    assert status == INVALID, log
    assert not till.ssh_keys.exists()


def test_check_says_when_ssh_keygen_is_not_there_to_confirm_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """IT's machine without OpenSSH: the key is still read by shape, but --check must not claim
    OpenSSH's word on it ("a whole key") when it never asked."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    code, said = _check(tmp_path, GOOD.encode(), capsys)
    assert code == APPLIED, said
    assert "[ssh] authorized_keys[0] (SHA256:" in said
    assert "ssh-keygen is not installed here: read by shape only" in said, said
    assert "a whole key" not in said


def test_a_fifo_or_a_directory_named_as_the_file_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read as every untrusted file is (appliance.untrusted): a FIFO does not wait forever for
    a writer, a directory is named as one."""
    fifo = tmp_path / "provision.toml"
    os.mkfifo(fifo)
    code = main(["provision", "--check", "--from", str(fifo)])
    assert code == INVALID
    assert "provision.toml: not a regular file" in capsys.readouterr().out
    code = main(["provision", "--check", "--from", str(tmp_path)])
    assert code == INVALID
    assert "a directory" in capsys.readouterr().out


def test_a_key_line_with_options_in_front_says_options_are_not_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line copied from another authorized_keys, options and all: IT is told what to cut."""
    line = 'from=\\"10.0.0.0/8\\",no-pty ' + KEY
    code, said = _check(tmp_path, _with_key(line).encode(), capsys)
    assert code == INVALID
    assert "[ssh] authorized_keys[0]" in said
    assert "options in front of the key (from=, command=, ...) are not taken" in said, said

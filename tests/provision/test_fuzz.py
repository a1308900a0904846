"""Fuzzed provisioning files: each is applied and correct, or refused in one line; never a
traceback. On a provisioned till, no unsigned file changes anything, whatever it says."""

from __future__ import annotations

import json
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.config import load_config
from appliance.provision import (
    APPLIED,
    INVALID,
    NOTHING_TO_DO,
    REFUSED,
    Targets,
    is_placeholder,
    provision,
    to_toml,
)
from tests.provision.conftest import fresh_till
from tests.provision.test_provision import GOOD, KEY

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE: dict[str, Any] = tomllib.loads(GOOD)
scalars = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.floats(allow_nan=False),
    st.sampled_from(["T01", "Main POS", "https://erp.example.com", KEY, "ab" * 32, ""]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """IT's file with its free-text values fuzzed, then none or a few structural mutations:
    a value replaced by anything, a key dropped or added, a table renamed."""
    doc: dict[str, Any] = json.loads(json.dumps(BASE))
    text = st.text(max_size=30)
    doc["provision"]["id"] = draw(text)
    doc["terminal"]["branch"] = draw(text)
    for key in ("api_key", "api_secret", "pos_profile"):
        doc["erpnext"][key] = draw(text)
    doc["ssh"]["authorized_keys"] = draw(st.lists(st.sampled_from([KEY, *draw(st.lists(text))])))
    if draw(st.booleans()):
        doc["provision"]["reprovision"] = draw(st.one_of(st.booleans(), values))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 4]))):
        table = draw(st.sampled_from(sorted(doc)))
        what = draw(st.sampled_from(["replace", "drop", "add", "rename"]))
        keys = sorted(doc[table])
        if what == "rename":
            doc[draw(st.sampled_from(["provison", "devices", "scan", "x"]))] = doc.pop(table)
        elif what == "add" or not keys:
            doc[table][draw(st.text(min_size=1, max_size=12))] = draw(values)
        elif what == "drop":
            del doc[table][draw(st.sampled_from(keys))]
        else:
            doc[table][draw(st.sampled_from(keys))] = draw(values)
    return doc


def snapshot(t: Targets) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(t.etc.iterdir())} | {
        "keys": t.ssh_keys.read_text() if t.ssh_keys.exists() else ""
    }


@contextmanager
def till(provisioned: bool) -> Iterator[tuple[Path, Targets]]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = fresh_till(d)
        if provisioned:
            (d / "first.toml").write_text(GOOD)
            assert provision(d / "first.toml", t)[0] == APPLIED
        yield d, t


def run(d: Path, t: Targets, content: bytes) -> tuple[int, list[str]]:
    f = d / "stick/provision.toml"
    f.parent.mkdir(exist_ok=True)
    f.write_bytes(content)
    status, log = provision(f, t, source="/dev/sdb", do_scrub=True)
    assert status in (APPLIED, INVALID, NOTHING_TO_DO, REFUSED)
    assert log and all(line.isprintable() and len(line) <= 300 for line in log), log
    return status, log


def check_applied(t: Targets, doc: dict[str, Any]) -> None:
    """What the till now runs is what the file said."""
    cfg = load_config(t.config)
    assert cfg.terminal.id == doc["terminal"]["id"]
    assert cfg.erpnext and cfg.erpnext.url == doc["erpnext"]["url"].rstrip("/")
    assert t.secret.read_text() == doc["erpnext"]["api_secret"].strip() + "\n"
    keys = [k.strip() for k in doc.get("ssh", {}).get("authorized_keys", [])]
    assert t.ssh_keys.read_text() == "".join(k + "\n" for k in keys)
    assert json.loads(t.status.read_text())["state"] == "provisioned"


@SETTINGS
@given(documents())
def test_a_fresh_till_applies_a_fuzzed_file_correctly_or_says_why(doc: dict[str, Any]) -> None:
    with till(provisioned=False) as (d, t):
        status, log = run(d, t, to_toml(doc).encode())
        if status == APPLIED:
            check_applied(t, doc)
        else:
            assert is_placeholder(t.config) and not t.secret.exists(), log
            assert json.loads(t.status.read_text())["state"] == "error"


@SETTINGS
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_garbage_is_refused_in_one_line(content: bytes) -> None:
    with till(provisioned=False) as (d, t):
        status, _ = run(d, t, content)
        assert status != APPLIED or not is_placeholder(t.config)


@SETTINGS
@given(documents(), st.one_of(st.none(), st.binary(max_size=400)))
def test_no_unsigned_file_changes_a_provisioned_till(
    doc: dict[str, Any], signature: bytes | None
) -> None:
    with till(provisioned=True) as (d, t):
        before = snapshot(t)
        if signature is not None:
            (d / "stick").mkdir()
            (d / "stick/provision.toml.sig").write_bytes(signature)
        status, log = run(d, t, to_toml(doc).encode())
        assert status != APPLIED, log
        assert snapshot(t) == before

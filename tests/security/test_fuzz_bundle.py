"""USB bundles from hostile hands, imported through ``appliance import`` (the CLI's own handler,
in process) into the fake ERPNext over HTTP on 127.0.0.1: damaged bytes, manifests rewritten and
re-signed with a key left on the stick, documents changed and signed with another terminal's
key. Each is either the genuine bundle, accepted, or refused in one line with exit 2, and no
document but the genuine ones ever reaches ERPNext."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from appliance.cli import main
from appliance.demo.masters import all_masters
from appliance.transfer import bundle as bundles
from appliance.transfer.keys import fingerprint
from fakeerp import FakeERPNext
from tests.agent.conftest import SMALL, write_config
from tests.security.fuzz import JSON_TEXT, json_object, one_line

FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@dataclass
class Office:
    erp: FakeERPNext
    config: Path
    stick: Path
    genuine: bytes
    genuine_ids: set[str]
    evil_key: bytes  # the attacker's, also on the stick as evil.key
    other_key: bytes  # terminal OTHER's, in head office's key store

    @property
    def attacker_keys(self) -> list[bytes]:
        """What a forger may sign with: the stick's own key, or another till's (stolen)."""
        return [self.evil_key, self.other_key]


def _key(path: Path) -> bytes:
    key = secrets.token_bytes(32)
    path.write_text(key.hex() + "\n", encoding="ascii")
    return key


def _genuine(key: bytes) -> tuple[bytes, set[str]]:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    documents = [
        bundles.Document(
            seq=n + 1,
            doctype="Customer",
            offline_id=oid,
            payload={"offline_id": oid, "customer_name": f"Fuzz {n}", "customer_type": "Company"},
        )
        for n, oid in enumerate(ids)
    ]
    manifest = bundles.Manifest(
        bundle_id=str(uuid.uuid4()),
        terminal="DEMO1",
        created_at="2026-01-02T03:04:05+00:00",
        appliance_version="0.1.0",
        key_fingerprint=fingerprint(key),
        documents=3,
        counts={"Customer": 3},
        references=0,
        outbox_seq=(1, 3),
        held=0,
    )
    return bundles.encode(manifest, [], documents, key), set(ids)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    root = tmp_path_factory.mktemp("office")
    store, stick = root / "keys", root / "stick"
    store.mkdir()
    stick.mkdir()
    genuine, ids = _genuine(_key(store / "DEMO1.key"))
    other_key = _key(store / "OTHER.key")
    with FakeERPNext(all_masters(SMALL)) as erp:
        config = write_config(root, erp)
        config.write_text(
            config.read_text().replace('id = "DEMO1"', 'id = "HQ"')
            + f'\n[transfer]\nkeys_dir = "{store}"\n',
            encoding="utf-8",
        )
        yield Office(erp, config, stick, genuine, ids, _key(stick / "evil.key"), other_key)


def sign(body: bytes, key: bytes) -> bytes:
    signature = hmac.new(key, body, hashlib.sha256).hexdigest()
    return body + json.dumps({bundles.SIGNATURE_FIELD: signature}).encode() + b"\n"


def body_of(data: bytes) -> bytes:
    return data[: data.rstrip(b"\n").rfind(b"\n") + 1]


def _import(office: Office, data: bytes) -> int:
    path = office.stick / "fuzz.bundle"
    path.write_bytes(data)
    before = len(office.erp.posts())
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["import", str(path), "--config", str(office.config)])
    landed = {
        str(d.get("offline_id")) for d in office.erp.site.all("Customer") if d.get("offline_id")
    }
    assert landed <= office.genuine_ids, landed - office.genuine_ids
    if code == 0 and body_of(data) == body_of(office.genuine):
        return code  # the genuine bundle, its signature line written differently at most
    assert code == 2 and out.getvalue() == "" and one_line(err.getvalue()), (code, err.getvalue())
    assert len(office.erp.posts()) == before
    return code


@FAST
@given(st.data())
def test_damaged_bytes(office: Office, data: st.DataObject) -> None:
    damaged = bytearray(office.genuine)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        if action == "flip":
            damaged[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "insert":
            damaged[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del damaged[at]
        else:
            del damaged[at:]
        if not damaged:
            break
    event(f"exit {_import(office, bytes(damaged))}")


HOSTILE_IDS = st.one_of(
    st.sampled_from(["DEMO1", "OTHER", "HQ", "evil", "../stick/evil", "./DEMO1", "DEMO1.key"]),
    st.just("/tmp/evil"),
    st.text(max_size=40),
    st.text(alphabet="abcXYZ019_./\\\x00\n", max_size=30),
    st.integers(0, 5000).map(lambda n: "A" * n),
)


@FAST
@given(st.data())
def test_manifest_rewritten_and_signed_with_the_attackers_key(
    office: Office, data: st.DataObject
) -> None:
    lines = office.genuine.splitlines(keepends=True)
    header = json.loads(lines[0])
    terminal = data.draw(st.one_of(HOSTILE_IDS, st.just(str(office.stick / "evil"))))
    header["terminal"] = terminal
    members = {name: json.dumps(value) for name, value in header.items()}
    for field in data.draw(st.lists(st.sampled_from(sorted(header)), max_size=2)):
        if field != "terminal":
            members[field] = data.draw(JSON_TEXT)  # as written: NaN, 6,000-digit integers...
    # OTHER's key under a manifest naming OTHER is that till's own bundle, not a forgery.
    key = (
        office.evil_key if terminal == "OTHER" else data.draw(st.sampled_from(office.attacker_keys))
    )
    manifest = json_object(members).encode("utf-8", "surrogatepass")
    body = manifest + b"\n" + b"".join(lines[1:-1])
    event(f"exit {_import(office, sign(body, key))}")


@FAST
@given(st.data())
def test_documents_changed_and_signed_with_another_key(office: Office, data: st.DataObject) -> None:
    lines = office.genuine.splitlines(keepends=True)
    documents = [json.loads(line) for line in lines[1:-1]]
    for doc in documents:
        doc["offline_id"] = doc["payload"]["offline_id"] = str(uuid.uuid4())
        doc["payload"]["customer_name"] = data.draw(st.text(min_size=1, max_size=20))
    body = lines[0] + b"".join(json.dumps(d).encode() + b"\n" for d in documents)
    key = data.draw(st.sampled_from(office.attacker_keys))
    event(f"exit {_import(office, sign(body, key))}")


def test_the_genuine_bundle_is_taken(office: Office) -> None:
    assert _import(office, office.genuine) == 0
    assert {d.get("offline_id") for d in office.erp.site.all("Customer")} >= office.genuine_ids


def test_a_signed_manifest_with_an_infinite_count_is_refused_in_one_line(office: Office) -> None:
    """Found by the fuzz above: a till's own key over a manifest counting 1e400 documents made
    the importer crash (OverflowError) instead of refusing the bundle."""
    lines = office.genuine.splitlines(keepends=True)
    header = json.loads(lines[0])
    members = {name: json.dumps(value) for name, value in header.items()}
    members["terminal"], members["counts"] = '"OTHER"', '{"Customer": 1e400}'
    body = json_object(members).encode() + b"\n" + b"".join(lines[1:-1])
    assert _import(office, sign(body, office.other_key)) == 2

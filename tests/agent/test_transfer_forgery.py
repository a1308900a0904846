"""Forged USB bundles at head office: whatever the stick says, the key comes only from head
office's own key store, the terminal id must be one, and nothing reaches ERPNext unless the
bundle is signed with that key. Real CLI, real HTTP against the fake ERPNext."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal as D
from pathlib import Path

from appliance.counter.checkout import Checkout
from appliance.transfer import bundle as bundles
from appliance.transfer.keys import fingerprint, read_key
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, sell
from tests.agent.test_transfer import Site, _cli, _export, _new_key, site  # noqa: F401 (fixture)


def forge(genuine: bytes, key: bytes, **manifest: object) -> bytes:
    """The genuine bundle's documents under a manifest changed as given, signed with ``key``
    (what anyone holding a stick and a text editor can make)."""
    lines = genuine.splitlines(keepends=True)
    header = json.loads(lines[0])
    header.update({"key_fingerprint": fingerprint(key), **manifest})
    body = (json.dumps(header) + "\n").encode() + b"".join(lines[1:-1])
    signature = hmac.new(key, body, hashlib.sha256).hexdigest()
    return body + json.dumps({bundles.SIGNATURE_FIELD: signature}).encode() + b"\n"


def refusal(at: Site, erp: FakeERPNext, bundle: Path, reason: str) -> str | None:
    """None when the import was refused in one line giving ``reason``, exit 2, with nothing
    sent; else what went wrong."""
    posts = len(erp.posts())
    code, out, err = _cli(at.office_env, "import", str(bundle))
    created = [p.path for p in erp.posts()[posts:]]
    if code != 2 or out is not None or err.count("\n") != 1 or "Traceback" in err:
        return f"exit {code}, stderr {err[-200:]!r}, created in ERPNext: {created}"
    if created:
        return f"refused but created in ERPNext: {created}"
    if reason not in err or len(err) > 400:
        return f"refused without saying why in a line: {err[:400]!r}"
    return None


def test_a_forged_bundle_never_reaches_erpnext(
    checkout: Checkout,
    site: Site,  # noqa: F811 (the fixture imported above)
    erp: FakeERPNext,
) -> None:
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    sell(checkout, 30, 31)
    genuine, _ = _export(site)
    data = genuine.read_bytes()
    # The attacker's own key, on the stick next to the bundle.
    evil_key = read_key(_new_key(site.stick / "evil.key"))
    relative = site.stick.relative_to(site.keys_dir.parent)
    forgeries: dict[str, tuple[bytes, str]] = {
        "absolute": (forge(data, evil_key, terminal=str(site.stick / "evil")), "terminal id"),
        "dot-dot": (forge(data, evil_key, terminal=f"../{relative}/evil"), "terminal id"),
        "relative": (forge(data, evil_key, terminal=f"{relative}/evil"), "terminal id"),
        "nul": (forge(data, evil_key, terminal="DEMO1\x00evil"), "terminal id"),
        "newline": (forge(data, evil_key, terminal="DEMO1\n"), "terminal id"),
        "very long": (forge(data, evil_key, terminal="A" * 5000), "terminal id"),
        "not text": (forge(data, evil_key, terminal=["DEMO1"]), "terminal id"),
        # The right terminal, the wrong key, and a fingerprint written to break the message.
        "wrong key, lying fingerprint": (
            forge(data, evil_key, key_fingerprint="0123\nforged: ok"),
            "signed with another key",
        ),
        "deeply nested manifest": (b"[" * 100_000 + b"]" * 100_000 + b"\n" + data, "manifest"),
    }
    failures: dict[str, str] = {}
    for name, (forged, reason) in forgeries.items():
        path = site.stick / f"{name.replace(' ', '-')}.bundle"
        path.write_bytes(forged)
        failure = refusal(site, erp, path, reason)
        if failure:
            failures[name] = failure
    assert not failures, "\n".join(f"{name}: {failure}" for name, failure in failures.items())
    assert not erp.site.all("POS Invoice")

    # The genuine bundle is still taken, by its terminal's key in the key store.
    code, result, err = _cli(site.office_env, "import", str(genuine))
    assert code == 0, err
    assert result is not None and result["created"] == 2


def test_a_key_file_linked_out_of_the_key_store_is_refused(
    checkout: Checkout,
    site: Site,  # noqa: F811 (the fixture imported above)
    erp: FakeERPNext,
) -> None:
    """DEMO1.key in head office's store is a symlink to a file elsewhere (a stick's): the key
    it points at is not head office's, whatever it signs is refused."""
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    sell(checkout, 32)
    genuine, _ = _export(site)
    evil_file = _new_key(site.stick / "evil.key")
    forged = site.stick / "forged.bundle"
    forged.write_bytes(forge(genuine.read_bytes(), read_key(evil_file)))
    stored = site.keys_dir / "DEMO1.key"
    stored.unlink()
    stored.symlink_to(evil_file)
    assert refusal(site, erp, forged, "outside the key store") is None

    # A link that stays in the store (a rotated key kept under its date) is fine.
    dated = site.keys_dir / "DEMO1-2026.key"
    dated.write_bytes(site.key_file.read_bytes())
    stored.unlink()
    stored.symlink_to(dated.name)
    code, result, err = _cli(site.office_env, "import", str(genuine))
    assert code == 0, err
    assert result is not None and result["created"] == 2


def test_transfer_key_writes_only_a_terminal_ids_file(
    site: Site,  # noqa: F811 (the fixture imported above)
) -> None:
    """``--out DIR`` names the file after the terminal: a path there would write elsewhere."""
    for terminal in ("../evil", "/tmp/evil", "T1\n", "A" * 17):
        args = ("transfer-key", "--terminal", terminal, "--out", str(site.keys_dir))
        code, out, err = _cli(site.office_env, *args)
        assert code == 2 and out is None, err
        assert err.count("\n") == 1 and "is not a terminal id" in err
    assert sorted(p.name for p in site.keys_dir.parent.rglob("*evil*")) == []


def test_a_tills_key_cannot_carry_another_tills_sales(
    checkout: Checkout,
    site: Site,  # noqa: F811 (the fixture imported above)
    erp: FakeERPNext,
) -> None:
    """A key that leaked from one till (OTHER) vouches for OTHER's documents only: DEMO1's sales
    re-signed under it are refused, since every payload names the till that made it."""
    checkout.open_shift(CASHIER, {"Cash": D(50)})
    sell(checkout, 32)
    genuine, _ = _export(site)
    other_key = read_key(_new_key(site.keys_dir / "OTHER.key"))
    forged = site.stick / "other.bundle"
    forged.write_bytes(forge(genuine.read_bytes(), other_key, terminal="OTHER"))
    assert refusal(site, erp, forged, "was made by till 'DEMO1', not by OTHER") is None
    assert not erp.site.all("POS Invoice")

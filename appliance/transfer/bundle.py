"""The USB bundle file: JSON lines, signed with HMAC-SHA256 under the terminal's transfer key.

Layout (UTF-8, one JSON object per line, ``\\n`` after every line, the last one included)::

    {"type": "manifest", "format": "appliance-usb-bundle", "version": 1, "bundle_id": ..., ...}
    {"type": "reference", "doctype": ..., "offline_id": ..., "erpnext_name": ...}    (0 or more)
    {"type": "document", "seq": ..., "doctype": ..., "offline_id": ..., "payload": {...}, ...}
    {"hmac_sha256": "<64 hex digits>"}

The signature is HMAC-SHA256 over every byte before the last line. A reader checks it before it
believes anything else in the file, so a bundle cut short (a yanked stick), altered or signed with
another terminal's key is refused whole. Before that check the manifest's ``terminal`` only picks
the key, and only if it is a terminal id (``keys.checked_terminal``); nothing else the unverified
manifest says is used or repeated, beyond its format and version and a well-formed fingerprint.

Documents come in dependency order (opening entries, customers made offline, sales, returns,
closing entries); a reference is a document a bundled one needs that ERPNext already had when
the bundle was made (its ERPNext name came back then).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.agent.ledger import ClosingSale
from appliance.sales.payload import TERMINAL_FIELD
from appliance.store import jsonutil
from appliance.transfer.keys import TransferKeyError, checked_terminal, fingerprint
from appliance.untrusted import read_file, reason, shown

FORMAT = "appliance-usb-bundle"
VERSION = 1
SUFFIX = ".bundle"
SIGNATURE_FIELD = "hmac_sha256"
SIZE_LIMIT = 1 << 30  # far above a year of one till's sales; a stick's endless file stops here
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")

KeyFinder = Callable[[str], bytes]  # the transfer key of a terminal id


class BundleError(ValueError):
    """The bundle is refused: one line saying why."""


@dataclass(frozen=True)
class Manifest:
    bundle_id: str
    terminal: str
    created_at: str  # ISO 8601, UTC
    appliance_version: str
    key_fingerprint: str
    documents: int
    counts: dict[str, int]  # documents per doctype
    references: int
    outbox_seq: tuple[int, int]  # the first and last outbox entry id carried
    held: int  # unsent entries left out: they wait on a document ERPNext refused

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": "manifest",
            "format": FORMAT,
            "version": VERSION,
            "bundle_id": self.bundle_id,
            "terminal": self.terminal,
            "created_at": self.created_at,
            "appliance_version": self.appliance_version,
            "key_fingerprint": self.key_fingerprint,
            "documents": self.documents,
            "counts": self.counts,
            "references": self.references,
            "outbox_seq": {"first": self.outbox_seq[0], "last": self.outbox_seq[1]},
            "held": self.held,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Manifest:
        seq = raw["outbox_seq"]
        return cls(
            bundle_id=str(raw["bundle_id"]),
            terminal=str(raw["terminal"]),
            created_at=str(raw["created_at"]),
            appliance_version=str(raw["appliance_version"]),
            key_fingerprint=str(raw["key_fingerprint"]),
            documents=int(raw["documents"]),
            counts={str(k): int(v) for k, v in raw["counts"].items()},
            references=int(raw["references"]),
            outbox_seq=(int(seq["first"]), int(seq["last"])),
            held=int(raw["held"]),
        )


@dataclass(frozen=True)
class Reference:
    doctype: str
    offline_id: str
    erpnext_name: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": "reference", **self.__dict__}


@dataclass(frozen=True)
class Document:
    """One outbox entry: its payload exactly as the push would read it, what it waits for, and
    what the push would otherwise read from the terminal's store (a sale's totals, to compare
    with ERPNext's; a closing entry's sales)."""

    seq: int
    doctype: str
    offline_id: str
    payload: dict[str, Any]
    depends_on: list[tuple[str, str]] = field(default_factory=list)  # (doctype, offline id)
    totals: dict[str, str] | None = None
    closing_sales: list[ClosingSale] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "document",
            "seq": self.seq,
            "doctype": self.doctype,
            "offline_id": self.offline_id,
            "payload": self.payload,
            "depends_on": [{"doctype": d, "offline_id": o} for d, o in self.depends_on],
        }
        if self.totals is not None:
            out["totals"] = self.totals
        if self.closing_sales is not None:
            out["closing_sales"] = [s.as_dict() for s in self.closing_sales]
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Document:
        sales = raw.get("closing_sales")
        return cls(
            seq=int(raw["seq"]),
            doctype=str(raw["doctype"]),
            offline_id=str(raw["offline_id"]),
            payload=dict(raw["payload"]),
            depends_on=[(str(d["doctype"]), str(d["offline_id"])) for d in raw["depends_on"]],
            totals={str(k): str(v) for k, v in raw["totals"].items()} if "totals" in raw else None,
            closing_sales=[ClosingSale.from_dict(s) for s in sales] if sales is not None else None,
        )


@dataclass(frozen=True)
class Bundle:
    manifest: Manifest
    references: list[Reference]
    documents: list[Document]


def file_name(manifest: Manifest) -> str:
    stamp = manifest.created_at.replace("-", "").replace(":", "").split(".")[0].split("+")[0]
    return f"{manifest.terminal}-{stamp}Z-{manifest.bundle_id[:8]}{SUFFIX}"


def encode(
    manifest: Manifest,
    references: Sequence[Reference],
    documents: Sequence[Document],
    key: bytes,
) -> bytes:
    # dumps_payload keeps the payload's key order and exact Decimal digits, as stored.
    lines = [manifest.as_dict(), *(r.as_dict() for r in references)]
    lines += [d.as_dict() for d in documents]
    body = "".join(jsonutil.dumps_payload(line) + "\n" for line in lines).encode("utf-8")
    signature = hmac.new(key, body, hashlib.sha256).hexdigest()
    return body + json.dumps({SIGNATURE_FIELD: signature}).encode("ascii") + b"\n"


def write_atomic(path: Path, data: bytes) -> None:
    """Write, flush to the device, then rename: a yanked stick leaves no file by this name, only
    a ``.partial`` one that no reader takes for a bundle."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself must reach the stick
    finally:
        os.close(dir_fd)


def decode(data: bytes, key_for: KeyFinder) -> Bundle:
    """Check the signature with the key ``key_for(terminal)`` gives, then parse.

    Raises :class:`BundleError` for anything short of a whole, untouched bundle signed with
    that key; ``key_for`` may raise its own error (no key for that terminal).
    """
    if not data.endswith(b"\n"):
        raise BundleError("truncated: the bundle does not end with its signature line")
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    body, last = data[:cut], data[cut:]
    signature = _signature(last)
    header = _manifest_line(body)
    try:
        terminal = checked_terminal(header.get("terminal"))
    except TransferKeyError as exc:
        raise BundleError(f"not a bundle from a terminal: the manifest's {exc}") from None
    key = key_for(terminal)
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        claimed = header.get("key_fingerprint")
        if claimed != fingerprint(key):
            said = claimed if isinstance(claimed, str) and _FINGERPRINT.fullmatch(claimed) else "?"
            raise BundleError(
                f"signature does not match: signed with another key than the one for terminal "
                f"{terminal} (key {said}, ours {fingerprint(key)})"
            )
        raise BundleError("signature does not match: the bundle was altered or damaged")
    return _parse(body)


def read(path: Path, key_for: KeyFinder) -> Bundle:
    try:
        data = read_file(path, SIZE_LIMIT)
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {reason(exc)}") from None
    return decode(data, key_for)


def _json_line(line: bytes) -> object:
    """One unverified line as JSON, or None: however it is broken (nested beyond the parser's
    depth, a number too long to convert, not UTF-8), it is just not what it should be."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _signature(last: bytes) -> str:
    line = _json_line(last)
    signature = line.get(SIGNATURE_FIELD) if isinstance(line, dict) else None
    if not isinstance(signature, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", signature):
        raise BundleError("truncated or not a bundle: its last line is not a signature")
    return signature.lower()


def _manifest_line(body: bytes) -> dict[str, Any]:
    header = _json_line(body.split(b"\n", 1)[0])
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BundleError("not an appliance bundle (no manifest line)")
    if header.get("version") != VERSION:
        version = shown(header.get("version"))
        raise BundleError(f"bundle version {version} is not supported (want {VERSION})")
    return header


def _parse(body: bytes) -> Bundle:
    """Signed content from here on: a failure is a bug in the writer, said as such."""
    try:
        lines = [json.loads(line) for line in body.decode("utf-8").splitlines()]
        manifest = Manifest.from_dict(lines[0])
        references = [
            Reference(str(r["doctype"]), str(r["offline_id"]), str(r["erpnext_name"]))
            for r in lines[1:]
            if r["type"] == "reference"
        ]
        documents = [Document.from_dict(d) for d in lines[1:] if d["type"] == "document"]
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise BundleError(f"malformed bundle content: {type(exc).__name__}: {exc}") from None
    counts: dict[str, int] = {}
    for doc in documents:
        counts[doc.doctype] = counts.get(doc.doctype, 0) + 1
    if (
        len(documents) != manifest.documents
        or counts != manifest.counts
        or len(references) != manifest.references
        or len(lines) != 1 + len(references) + len(documents)
    ):
        raise BundleError("the manifest does not match the bundle's contents")
    for doc in documents:
        # A till's key vouches for that till's documents only: one whose key leaked cannot
        # carry another till's sales (payloads name their till since appliance_terminal).
        made_by = doc.payload.get(TERMINAL_FIELD)
        if made_by is not None and made_by != manifest.terminal:
            raise BundleError(
                f"{doc.doctype} {shown(doc.offline_id)} was made by till {shown(made_by)}, "
                f"not by {manifest.terminal} whose key signed the bundle"
            )
    return Bundle(manifest, references, documents)

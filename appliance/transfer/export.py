"""``appliance export``: the documents ERPNext has not got yet, into a signed bundle on a stick.

Exporting changes nothing about what is synced: the entries stay unsent on the terminal (their
``exported_bundle`` names the bundle, and the journal records the export), so the agent still
pushes them once there is a link, finds them in ERPNext by offline id if the bundle got there
first, and marks them synced then.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from appliance import __version__
from appliance.agent.ledger import NotReadyError
from appliance.agent.outbox_ledger import StoreReferences, closing_sales, sale_totals
from appliance.agent.push import rank
from appliance.store import journal, jsonutil
from appliance.store.db import unit_of_work
from appliance.store.models import OutboxEntry, OutboxState
from appliance.store.sales import CLOSING_DOCTYPE, CUSTOMER_DOCTYPE, SALE_DOCTYPES
from appliance.transfer.bundle import (
    Document,
    Manifest,
    Reference,
    encode,
    file_name,
    write_atomic,
)
from appliance.transfer.keys import fingerprint

# IN_FLIGHT too: with no link, an entry left in flight by a crash was never answered.
UNSENT = (OutboxState.READY, OutboxState.IN_FLIGHT)
HELD_SHOWN = 20
MARK_CHUNK = 500


@dataclass
class Selection:
    documents: list[Document] = field(default_factory=list)
    references: dict[tuple[str, str], Reference] = field(default_factory=dict)
    held: list[dict[str, str]] = field(default_factory=list)  # left out, and why

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for doc in self.documents:
            counts[doc.doctype] = counts.get(doc.doctype, 0) + 1
        return counts


@dataclass(frozen=True)
class ExportResult:
    path: Path | None
    manifest: Manifest | None
    size: int
    sha256: str | None
    held: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bundle": str(self.path) if self.path else None,
            "bytes": self.size,
            "sha256": self.sha256,
            "held": len(self.held),
            "held_documents": self.held[:HELD_SHOWN],
        }
        if self.manifest is None:
            out.update(documents=0, message="nothing to export: no document is waiting to be sent")
        else:
            manifest = self.manifest.as_dict()
            for key in ("type", "format", "version"):
                manifest.pop(key)
            out.update(manifest)
        return out


def select_unsent(session: Session) -> Selection:
    """Every unsent entry that can travel, in dependency order, with the ERPNext names of what
    it refers to that ERPNext already has. An entry waiting on a document ERPNext refused (or
    on one left out itself) stays behind: the import could not send it either."""
    refs = StoreReferences(session)
    entries = [
        (jsonutil.loads(e.payload), e)
        for e in session.scalars(select(OutboxEntry).where(OutboxEntry.state.in_(UNSENT)))
    ]
    entries.sort(key=lambda pe: (rank(pe[1].doctype, pe[0]), pe[1].id))
    chosen = Selection()
    carried: set[tuple[str, str]] = set()
    for payload, entry in entries:
        try:
            document = _document(session, entry, payload)
            for doctype, offline_id, what in _needs(refs, document, payload):
                if (doctype, offline_id) not in carried:
                    name = refs.name_of(doctype, offline_id, what)
                    chosen.references[(doctype, offline_id)] = Reference(doctype, offline_id, name)
        except NotReadyError as exc:
            chosen.held.append(
                {"doctype": entry.doctype, "offline_id": entry.offline_id, "reason": str(exc)}
            )
            continue
        carried.add((entry.doctype, entry.offline_id))
        chosen.documents.append(document)
    return chosen


def _document(session: Session, entry: OutboxEntry, payload: dict[str, Any]) -> Document:
    totals = None
    sales = None
    if entry.doctype in SALE_DOCTYPES:
        ours = sale_totals(session, entry.offline_id)
        totals = {k: str(v) for k, v in ours.items()} if ours is not None else None
    elif entry.doctype == CLOSING_DOCTYPE:
        sales = closing_sales(session, entry)
    return Document(
        seq=entry.id,
        doctype=entry.doctype,
        offline_id=entry.offline_id,
        # Read with Decimals so the bundle keeps the stored digits; the importer then reads it
        # with json.loads, exactly as the push reads the outbox.
        payload=payload,
        depends_on=[(d.doctype, d.offline_id) for d in entry.depends_on],
        totals=totals,
        closing_sales=sales,
    )


def _needs(
    refs: StoreReferences, document: Document, payload: dict[str, Any]
) -> Iterator[tuple[str, str, str]]:
    """Every document made offline that this one names: its dependencies, and customers made
    offline that ERPNext may already have (a sale then no longer waits for them)."""
    for doctype, offline_id in document.depends_on:
        yield doctype, offline_id, "dependency"
    customers = [str(payload["customer"])] if payload.get("customer") else []
    customers += [s.customer for s in document.closing_sales or ()]
    for customer in customers:
        if refs.created_offline(CUSTOMER_DOCTYPE, customer):
            yield CUSTOMER_DOCTYPE, customer, "customer"


def export_bundle(
    read: sessionmaker[Session],
    write: sessionmaker[Session],
    *,
    terminal: str,
    key: bytes,
    directory: Path,
    actor: str,
) -> ExportResult:
    with read() as session:
        try:
            chosen = select_unsent(session)
        finally:
            session.rollback()
    if not chosen.documents:
        return ExportResult(None, None, 0, None, chosen.held)
    seqs = [d.seq for d in chosen.documents]
    manifest = Manifest(
        bundle_id=str(uuid.uuid4()),
        terminal=terminal,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        appliance_version=__version__,
        key_fingerprint=fingerprint(key),
        documents=len(chosen.documents),
        counts=chosen.counts,
        references=len(chosen.references),
        outbox_seq=(min(seqs), max(seqs)),
        held=len(chosen.held),
    )
    data = encode(manifest, list(chosen.references.values()), chosen.documents, key)
    path = directory / file_name(manifest)
    write_atomic(path, data)
    digest = hashlib.sha256(data).hexdigest()
    _record(write, manifest, path=path, digest=digest, seqs=seqs, actor=actor)
    return ExportResult(path, manifest, len(data), digest, chosen.held)


def _record(
    write: sessionmaker[Session],
    manifest: Manifest,
    *,
    path: Path,
    digest: str,
    seqs: list[int],
    actor: str,
) -> None:
    """After the bundle is safely on the stick: mark what it carries and journal the export."""
    with unit_of_work(write) as uow:
        for start in range(0, len(seqs), MARK_CHUNK):  # SQLite caps bound parameters
            uow.session.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.id.in_(seqs[start : start + MARK_CHUNK]),
                    OutboxEntry.state != OutboxState.DONE,
                )
                .values(exported_bundle=manifest.bundle_id)
                .execution_options(synchronize_session=False)
            )
        journal.append(
            uow.session,
            journal.JournalKind.USB_EXPORT,
            actor,
            manifest.bundle_id,
            {
                "file": path.name,
                "sha256": digest,
                "documents": manifest.documents,
                "counts": manifest.counts,
                "outbox_seq": list(manifest.outbox_seq),
                "held": manifest.held,
            },
        )
        uow.commit()

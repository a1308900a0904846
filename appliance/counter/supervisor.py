"""The supervisor's menu: documents ERPNext refused (quarantined), and sending one again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.scrub import scrub, scrub_optional
from appliance.store import journal, outbox
from appliance.store.db import unit_of_work
from appliance.store.journal import JournalKind
from appliance.store.models import OutboxEntry, OutboxState


@dataclass(frozen=True)
class Quarantined:
    id: int
    doctype: str
    offline_id: str
    message: str  # ERPNext's answer, scrubbed of anything secret


def quarantined(read: sessionmaker[Session]) -> list[Quarantined]:
    with read() as session:
        rows = session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.state == OutboxState.QUARANTINED)
            .order_by(OutboxEntry.id)
        )
        return [Quarantined(e.id, e.doctype, e.offline_id, scrub(e.last_error or "")) for e in rows]


def retry(write: sessionmaker[Session], entry_id: int, supervisor: str) -> None:
    with unit_of_work(write) as uow:
        entry = uow.session.get(OutboxEntry, entry_id)
        if entry is None:
            raise LookupError(f"No outbox entry {entry_id}")
        outbox.release(uow.session, entry)
        journal.append(
            uow.session,
            JournalKind.OUTBOX_RETRY,
            supervisor,
            entry.offline_id,
            {"doctype": entry.doctype, "error": scrub_optional(entry.last_error)},
        )
        uow.commit()

"""Following the shift's opening and closing in ERPNext after the push sent them.

:class:`ShiftWatch` is told by the push what ERPNext answered about an opening or a closing
(:class:`appliance.agent.push.DocumentSender`) and, once per agent cycle, reads each closing that
was answered ``Queued`` (or ended ``Failed``) again, one GET each, until it is ``Submitted``
(never a blocking loop: a consolidation may take minutes, or wait for IT's Retry). What it learns
goes to ``sync_state`` (:mod:`appliance.agent.shift_notices` reads it for the till, status and
health), to the audit journal (``closing_failed``, ``closing_consolidated``, ``shift_refused``)
and to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind, html_text
from appliance.agent.ledger import Job
from appliance.agent.outbox_ledger import AGENT_ACTOR
from appliance.agent.shift_notices import (
    CLOSINGS_KEY,
    FAILED,
    QUEUED,
    REFUSED_KEY,
    SUBMITTED,
    closings,
    refused,
    shift_problem,
)
from appliance.scrub import scrub
from appliance.store import journal, outbox
from appliance.store import sync_state as state
from appliance.store.db import unit_of_work
from appliance.store.journal import JournalKind
from appliance.store.models import OutboxState
from appliance.store.sales import CLOSING_DOCTYPE, OPENING_DOCTYPE

log = logging.getLogger(__name__)


class ShiftWatch:
    def __init__(self, read: sessionmaker[Session], write: sessionmaker[Session]) -> None:
        self._read = read
        self._write = write

    def _state(self) -> dict[str, Any]:
        with self._read() as session:
            try:
                return state.read_state(session)
            finally:
                session.rollback()

    def problem(self) -> dict[str, Any] | None:
        found = shift_problem(self._state())
        return found.as_dict() if found else None

    # -- told by the push -----------------------------------------------------------------------
    def closing_answered(self, offline_id: str, name: str, doc: Mapping[str, Any]) -> None:
        """ERPNext has the closing (created now, or found): follow it unless it is done."""
        status = str(doc.get("status") or "")
        if status in (QUEUED, FAILED):
            log.info("POS Closing Entry %s is %s in ERPNext: following it", name, status)
            self._settle({name: {"offline_id": offline_id, "since": state.now_iso()}}, doc)

    def document_refused(self, job: Job, rule: str, message: str, body: Mapping[str, Any]) -> None:
        """ERPNext refused the shift's opening (or closing) for a rule that may end by itself."""
        current = refused(self._state())
        record = {
            "offline_id": job.offline_id,
            "doctype": job.doctype,
            "rule": rule,
            "pos_profile": body.get("pos_profile"),
            "user": body.get("user"),
            "message": scrub(message),
        }
        if current is not None and all(current.get(k) == v for k, v in record.items()):
            return  # known already: journalled once, not at every retry
        log.error("ERPNext refused %s %s (%s rule): %s", job.doctype, job.offline_id, rule, message)
        with unit_of_work(self._write) as uow:
            journal.append(
                uow.session, JournalKind.SHIFT_REFUSED, AGENT_ACTOR, job.offline_id, record
            )
            state.write_values(uow.session, {REFUSED_KEY: {**record, "since": state.now_iso()}})
            uow.commit()

    def document_accepted(self, job: Job) -> None:
        current = refused(self._state())
        if current is not None and current.get("offline_id") == job.offline_id:
            log.info("ERPNext accepted %s %s after refusing it", job.doctype, job.offline_id)
            with unit_of_work(self._write) as uow:
                state.write_values(uow.session, {REFUSED_KEY: None})
                uow.commit()

    # -- once per cycle -------------------------------------------------------------------------
    def follow(self, client: ERPNextClient) -> None:
        """Read every followed closing again. Link trouble leaves them for the next cycle."""
        for name in sorted(closings(self._state())):
            try:
                doc = client.get_doc(CLOSING_DOCTYPE, name)
            except ERPNextError as exc:
                if exc.kind is ErrorKind.RETRY:
                    log.warning("could not read POS Closing Entry %s now: %s", name, exc)
                    return
                raise
            if doc is None:  # deleted in ERPNext: nothing left to follow
                log.warning("POS Closing Entry %s is gone from ERPNext: no longer followed", name)
                doc = {"status": SUBMITTED}
            self._settle({}, {**doc, "name": name})

    def _settle(self, new: dict[str, dict[str, Any]], doc: Mapping[str, Any]) -> None:
        """Record ``doc``'s status; journal a change to Failed or to Submitted."""
        name = str(doc["name"])
        status = str(doc.get("status") or "")
        # A real site's reason is desk markup (bold figures, links to the item): IT reads words.
        error = scrub(html_text(str(doc.get("error_message") or "")))
        with unit_of_work(self._write) as uow:
            watched = closings(state.read_state(uow.session))
            before = watched.get(name) or new.get(name) or {}
            offline_id = str(before.get("offline_id") or "")
            data = {"erpnext_name": name, "status": status, "message": error}
            if status == SUBMITTED or doc.get("docstatus") == 2:
                watched.pop(name, None)
                if before.get("status") in (QUEUED, FAILED):
                    log.info("POS Closing Entry %s consolidated by ERPNext", name)
                    journal.append(
                        uow.session, JournalKind.CLOSING_CONSOLIDATED, AGENT_ACTOR, offline_id, data
                    )
                    _retry_refused_opening_now(uow.session)
            else:
                if status == FAILED and before.get("status") != FAILED:
                    log.error("ERPNext failed to consolidate POS Closing Entry %s: %s", name, error)
                    journal.append(
                        uow.session, JournalKind.CLOSING_FAILED, AGENT_ACTOR, offline_id, data
                    )
                watched[name] = {
                    **before,
                    "status": status,
                    "error_message": error or None,
                    "checked": state.now_iso(),
                }
            state.write_values(uow.session, {CLOSINGS_KEY: watched})
            uow.commit()


def _retry_refused_opening_now(session: Session) -> None:
    """A closing's consolidation closed its opening: on 16 that frees the POS Profile, so an
    opening refused meanwhile is sent in this very cycle rather than after its back-off."""
    record = refused(state.read_state(session))
    if record is None:
        return
    entry = outbox.find_entry(session, OPENING_DOCTYPE, str(record.get("offline_id")))
    if entry is not None and entry.state is OutboxState.READY:
        entry.next_attempt_at = None

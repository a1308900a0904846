"""The till's audit journal against the copy ERPNext holds (``journal verify --against-erpnext``).

Every sale the agent sends carries ``appliance_journal = "<seq>:<hash>"``, the journal entry it was
committed with. ERPNext keeps it, out of reach of whoever can write the till's disk. Someone who
deletes a sale and re-hashes the chain, or rewrites the store and its high-water mark together,
leaves a chain that is consistent in itself but no longer holds those entries: this check names
each synced sale whose anchor the till's journal no longer has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.agent.client import ERPNextClient
from appliance.sales.payload import JOURNAL_FIELD, OFFLINE_ID_FIELD, TERMINAL_FIELD
from appliance.store.models import JournalEntry

SHOWN = 50  # problems listed one by one; the count is always whole


@dataclass
class AnchorReport:
    checked: int = 0
    unanchored: int = 0  # synced before anchors existed, or sent from a USB bundle
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0

    @property
    def intact(self) -> bool:
        return self.problem_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "intact" if self.intact else "rewritten",
            "checked": self.checked,
            "unanchored": self.unanchored,
            "problems": self.problem_count,
            "first_problems": self.problems,
        }


def erpnext_anchors(
    client: ERPNextClient, terminal: str, doctypes: Iterable[str]
) -> Iterable[Mapping[str, Any]]:
    """Every sale ERPNext holds from ``terminal``, with its anchor (rows as ERPNext lists them)."""
    for doctype in doctypes:
        for page in client.iter_list(
            doctype,
            fields=["name", OFFLINE_ID_FIELD, JOURNAL_FIELD],
            filters=[[TERMINAL_FIELD, "=", terminal]],
            order_by="name asc",
        ):
            yield from page


def compare(session: Session, rows: Iterable[Mapping[str, Any]]) -> AnchorReport:
    report = AnchorReport()
    for row in rows:
        anchor = str(row.get(JOURNAL_FIELD) or "")
        if not anchor:
            report.unanchored += 1
            continue
        report.checked += 1
        problem = _problem(session, anchor, str(row.get(OFFLINE_ID_FIELD) or ""))
        if problem:
            report.problem_count += 1
            if len(report.problems) < SHOWN:
                report.problems.append({"erpnext_name": row.get("name"), "problem": problem})
    return report


def _problem(session: Session, anchor: str, offline_id: str) -> str | None:
    seq_text, _, digest = anchor.partition(":")
    if not seq_text.isdigit() or not digest:
        return f"ERPNext holds an anchor the till never writes: {anchor[:80]!r}"
    seq = int(seq_text)
    entry = session.scalar(select(JournalEntry).where(JournalEntry.seq == seq))
    if entry is None:
        by_ref = session.scalar(select(JournalEntry.seq).where(JournalEntry.ref == offline_id))
        where = f" (the sale is at entry {by_ref} now)" if by_ref else ""
        return f"sale {offline_id} was committed as journal entry {seq}, which is gone{where}"
    if entry.ref != offline_id or entry.hash != digest:
        return (
            f"sale {offline_id} was committed as journal entry {seq}, but the till's entry {seq} "
            f"is now {'another hash' if entry.ref == offline_id else f'about {entry.ref}'}: "
            "the journal was rewritten"
        )
    return None

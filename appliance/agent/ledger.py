"""What the push needs to know about the documents it sends, wherever they come from.

The per-document work (look up by offline id, substitute ERPNext names, insert, classify the
answer) lives once, in :class:`appliance.agent.push.DocumentSender`. Where the documents come from
and where their outcomes go is a :class:`Ledger`: the terminal's outbox (the agent,
:mod:`appliance.agent.outbox_ledger`) or a USB bundle read at head office
(:mod:`appliance.transfer.bundle_ledger`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

# A sale's totals compared with ERPNext's answer (besides each tax row).
COMPARED_TOTALS = ("net_total", "total_taxes_and_charges", "grand_total", "rounded_total")


@dataclass
class Job:
    """One document to send: ``id`` is its outbox entry's id on the terminal that made it."""

    id: int
    doctype: str
    offline_id: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class ClosingSale:
    """A sale a closing entry covers, as its ``pos_transactions`` row needs it (offline names)."""

    doctype: str
    offline_id: str
    posting_date: str
    customer: str
    grand_total: Decimal
    is_return: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "doctype": self.doctype,
            "offline_id": self.offline_id,
            "posting_date": self.posting_date,
            "customer": self.customer,
            "grand_total": str(self.grand_total),
            "is_return": self.is_return,
        }

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> ClosingSale:
        return cls(
            doctype=str(row["doctype"]),
            offline_id=str(row["offline_id"]),
            posting_date=str(row["posting_date"]),
            customer=str(row["customer"]),
            grand_total=Decimal(str(row["grand_total"])),
            is_return=int(row["is_return"]),
        )


class NotReadyError(Exception):
    """A reference cannot be resolved yet (or, when ``permanent``, at all): the message says
    which."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class References(Protocol):
    """Resolves a document's offline references to ERPNext names while its body is built."""

    def name_of(self, doctype: str | None, offline_id: str, what: str) -> str:
        """ERPNext's name for a document made offline (any doctype when ``doctype`` is None);
        raises :class:`NotReadyError` while it is not there."""
        ...

    def created_offline(self, doctype: str, offline_id: str) -> bool:
        """Whether this name is a document made offline (rather than one pulled from ERPNext)."""
        ...

    def closing_sales(self, job: Job) -> list[ClosingSale]:
        """The sales a closing entry covers, in order."""
        ...

    def journal_anchor(self, offline_id: str) -> str | None:
        """``<seq>:<hash>`` of the audit journal entry the sale was committed with, sent along
        so ERPNext holds a copy of the chain the till cannot rewrite; None when unknown."""
        ...


class Ledger(Protocol):
    def references(self) -> AbstractContextManager[References]: ...

    def our_totals(self, job: Job) -> Mapping[str, Decimal] | None:
        """A sale's totals as the till computed them (``taxes[<idx>] <account>`` for tax rows),
        to compare with ERPNext's; None when unknown."""
        ...

    def done(self, job: Job, name: str, mismatch: str | None) -> None: ...

    def quarantine(self, job: Job, message: str) -> None: ...

    def retry(
        self, jobs: Sequence[Job], message: str, retry_at: datetime, *, answered: bool = False
    ) -> None:
        """Not sent this time (link trouble, or waiting for a dependency); ``answered``: ERPNext
        itself failed on the document (counted towards quarantine)."""
        ...

    def release(self, jobs: Sequence[Job], message: str | None) -> None:
        """Not tried: nothing was learned about them (the cycle stopped or was cut short)."""
        ...

    def server_version(self, major: int) -> None:
        """The ERPNext major version the documents go to (the till's totals follow its rules)."""
        ...

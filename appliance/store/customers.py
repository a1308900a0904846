"""Customers created at the till, queued for ERPNext like any other document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.store import journal, jsonutil, outbox
from appliance.store.models import Customer, CustomerSyncState
from appliance.store.sales import CUSTOMER_DOCTYPE, require_uuid


@dataclass(frozen=True)
class OfflineCustomer:
    """A new customer. Until ERPNext names it, the local ``name`` is the offline id."""

    offline_id: str
    customer_name: str
    created_by: str
    payload: Mapping[str, Any]
    customer_group: str | None = None
    territory: str | None = None
    customer_type: str | None = "Individual"
    mobile_no: str | None = None
    email_id: str | None = None
    tax_category: str | None = None

    def __post_init__(self) -> None:
        require_uuid(self.offline_id, "offline_id")


def create_offline_customer(session: Session, new: OfflineCustomer) -> Customer:
    """Add the customer, its outbox entry and a journal entry; idempotent on ``offline_id``.

    Sales to this customer wait for it in the outbox; their payload names it by offline id and
    the agent swaps in ERPNext's name (the entry's ``erpnext_name``) when it sends them.
    """
    existing = session.scalar(select(Customer).where(Customer.offline_id == new.offline_id))
    if existing is not None:
        return existing
    customer = Customer(
        name=new.offline_id,
        customer_name=new.customer_name,
        customer_type=new.customer_type,
        customer_group=new.customer_group,
        territory=new.territory,
        tax_category=new.tax_category,
        mobile_no=new.mobile_no,
        email_id=new.email_id,
        offline_id=new.offline_id,
        sync_state=CustomerSyncState.PENDING,
    )
    session.add(customer)
    session.flush()
    outbox.enqueue(session, CUSTOMER_DOCTYPE, new.offline_id, jsonutil.dumps_payload(new.payload))
    journal.append(
        session,
        journal.JournalKind.CUSTOMER_CREATE,
        new.created_by,
        new.offline_id,
        {"customer_name": new.customer_name, "mobile_no": new.mobile_no},
    )
    return customer

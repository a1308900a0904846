"""Customers at the counter: search, and a new one made at the till and queued for ERPNext."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.customers import OfflineCustomer, create_offline_customer
from appliance.store.db import unit_of_work
from appliance.store.models import TaxCategory, TaxRule, Territory, TotalsSettingsRow


@dataclass(frozen=True)
class NewCustomer:
    name: str
    phone: str = ""
    province: str = ""
    tax_category: str = ""


def provinces(read: sessionmaker[Session]) -> list[str]:
    """The provinces the store's Tax Rules name: the ones a customer's taxes can depend on."""
    with read() as session:
        rows = session.scalars(
            select(TaxRule.billing_state).where(TaxRule.billing_state.is_not(None)).distinct()
        )
        return sorted(str(r) for r in rows if r)


def tax_categories(read: sessionmaker[Session]) -> list[str]:
    with read() as session:
        return [
            str(n) for n in session.scalars(select(TaxCategory.name).order_by(TaxCategory.name))
        ]


def country_of(session: Session, province: str) -> str | None:
    """The country of a new customer's address in ``province``: never written into the till.

    The store's Tax Rules' own, if those naming the province name exactly one country (a rule
    with a billing country matches only an address there); else the site's (System Settings
    ``country``, pulled with the masters).
    """
    countries = set(
        session.scalars(
            select(TaxRule.billing_country)
            .where(TaxRule.billing_state == province, TaxRule.billing_country.is_not(None))
            .distinct()
        )
    )
    if len(countries) == 1:
        return countries.pop()
    return session.scalar(select(TotalsSettingsRow.country).where(TotalsSettingsRow.id == 1))


def territory_of(session: Session, province: str) -> str | None:
    """The province as the customer's Territory when the site has a Territory of that name
    (the demo's do); a stock site's are the countries, and ERPNext refuses a link to none, so
    the customer is sent without one (ERPNext fills in its default) and keeps the province in
    its address."""
    if not province:
        return None
    return session.scalar(select(Territory.name).where(Territory.name == province))


def create_customer(write: sessionmaker[Session], new: NewCustomer, created_by: str) -> str:
    """A customer made at the counter, queued for ERPNext; returns its local name."""
    offline_id = str(uuid.uuid4())
    with unit_of_work(write) as uow:
        territory = territory_of(uow.session, new.province)
        payload: dict[str, Any] = {
            "offline_id": offline_id,
            "customer_name": new.name,
            "customer_type": "Individual",
            "mobile_no": new.phone or None,
            "territory": territory,
            "tax_category": new.tax_category or None,
        }
        row = create_offline_customer(
            uow.session,
            OfflineCustomer(
                offline_id=offline_id,
                customer_name=new.name,
                created_by=created_by,
                payload=payload,
                territory=territory,
                mobile_no=new.phone or None,
                tax_category=new.tax_category or None,
            ),
        )
        # Tax Rules match on the billing address's province: give the new customer one.
        if new.province:
            row.billing_state = new.province
            row.billing_country = country_of(uow.session, new.province)
        uow.commit()
    return offline_id

"""Customers' Addresses flattened onto the customer row, where Tax Rule matching reads them.

ERPNext keeps addresses apart from the Customer: an Address links to its parties through
Dynamic Link rows. When it fills an invoice it takes the party's default address, an enabled
one marked primary (for billing) or shipping (for shipping) first, and its ``tax_category``
overrides the customer's (FACTS §3.6). The till does the same once, when addresses or customers
change, and keeps the result in the customer's ``billing_*``, ``shipping_*`` and
``address_tax_category`` columns, so a scan never joins.

A customer without any Address here keeps what its own document said (the demo's customers
carry a province directly); one whose last Address went away is cleared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from appliance.store.models import Address, AddressLink, Customer, CustomerSyncState

PARTS = {"city": "city", "county": "county", "state": "state", "zipcode": "pincode"}
PARTS_WITH_COUNTRY = {**PARTS, "country": "country"}
_CHUNK = 500


def _chunks(names: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(names), _CHUNK):
        yield names[start : start + _CHUNK]


def linked_customers(session: Session, address_names: Iterable[str]) -> set[str]:
    """Customers the stored Addresses ``address_names`` link to."""
    names = list(address_names)
    found: set[str] = set()
    for chunk in _chunks(names):
        found.update(
            session.scalars(
                select(AddressLink.link_name).where(
                    AddressLink.parent.in_(chunk), AddressLink.link_doctype == "Customer"
                )
            )
        )
    return found


def _pick(addresses: list[Address], flag: str) -> Address:
    # Marked ones first, then by name so the choice is stable.
    return sorted(addresses, key=lambda a: (not getattr(a, flag), a.name))[0]


def _flat(billing: Address | None, shipping: Address | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kind, chosen in (("billing", billing), ("shipping", shipping)):
        for part, source in PARTS_WITH_COUNTRY.items():
            values[f"{kind}_{part}"] = getattr(chosen, source) if chosen is not None else None
    values["address_tax_category"] = billing.tax_category if billing is not None else None
    return values


def flatten(session: Session, customers: Iterable[str], *, clear_missing: bool) -> int:
    """Re-flatten these customers' default addresses onto them; returns customers changed.

    ``clear_missing``: a customer with no enabled Address gets empty address columns (its
    addresses were removed or unlinked); otherwise it is left as it is.
    """
    names = sorted(set(customers))
    changed = 0
    for chunk in _chunks(names):
        rows = session.execute(
            select(AddressLink.link_name, Address)
            .join(Address, Address.name == AddressLink.parent)
            .where(
                AddressLink.link_doctype == "Customer",
                AddressLink.link_name.in_(chunk),
                Address.disabled.is_(False),
            )
        ).all()
        by_customer: dict[str, list[Address]] = {}
        for customer, address in rows:
            by_customer.setdefault(customer, []).append(address)
        for customer in chunk:
            found = by_customer.get(customer)
            if not found and not clear_missing:
                continue
            values = (
                _flat(_pick(found, "is_primary_address"), _pick(found, "is_shipping_address"))
                if found
                else _flat(None, None)
            )
            result = session.execute(
                update(Customer)
                .where(Customer.name == customer)
                .values(values)
                .execution_options(synchronize_session=False)
            )
            changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


ADDRESS_COLUMNS = (
    *(f"{kind}_{part}" for kind in ("billing", "shipping") for part in PARTS_WITH_COUNTRY),
    "address_tax_category",
)


def keep_addresses(
    session: Session, docs: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The stored address columns of customers whose document carries none (ERPNext's never
    do: Customer has no such fields), to put back after the upsert blanked them. Without this
    a customer created here with a province would lose it when the pull brings it back."""
    names = [str(d["name"]) for d in docs if not any(col in d for col in ADDRESS_COLUMNS)]
    kept: dict[str, dict[str, Any]] = {}
    columns = [getattr(Customer, col) for col in ADDRESS_COLUMNS]
    for chunk in _chunks(names):
        for row in session.execute(select(Customer.name, *columns).where(Customer.name.in_(chunk))):
            values = dict(zip(ADDRESS_COLUMNS, row[1:], strict=True))
            if any(v is not None for v in values.values()):
                kept[str(row[0])] = values
    return kept


def put_back(session: Session, kept: Mapping[str, Mapping[str, Any]]) -> None:
    for name, values in kept.items():
        session.execute(
            update(Customer)
            .where(Customer.name == name)
            .values(dict(values))
            .execution_options(synchronize_session=False)
        )


def adopt_renamed(session: Session, docs: Iterable[Mapping[str, Any]]) -> int:
    """Move customers created here under the name ERPNext gave them, found by offline id.

    ERPNext names a customer after ``customer_name`` and silently renames a duplicate
    ("Jo Roy - 1"). The till named it by its offline id; the pulled document carries that id
    back, so the local row (and its outbox history) is renamed in place rather than a second
    customer appearing. Returns how many were renamed.
    """
    renamed = 0
    for doc in docs:
        offline_id = doc.get("offline_id")
        name = doc.get("name")
        if not offline_id or not name:
            continue
        local = session.scalar(
            select(Customer.name).where(
                Customer.offline_id == str(offline_id), Customer.name != str(name)
            )
        )
        if local is None:
            continue
        # An earlier pull (before this rule) may have added ERPNext's copy: the till's row wins.
        session.execute(
            delete(Customer)
            .where(Customer.name == str(name), Customer.offline_id.is_(None))
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Customer)
            .where(Customer.name == local)
            .values(name=str(name), sync_state=CustomerSyncState.SYNCED)
            .execution_options(synchronize_session=False)
        )
        renamed += 1
    return renamed

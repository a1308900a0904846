"""What one terminal holds: its POS Profile's item groups, customer groups, company, price lists.

ERPNext's POS only offers a profile's ``item_groups`` and ``customer_groups``, each with its
descendants (an empty table means all, FACTS §3.1). The till keeps the same subset, so a branch
never carries another branch's customers and a small till never holds the whole catalog. The
scope is read from the store itself (the profile and both group trees are pulled before the
documents they filter), turned into listing filters so ERPNext sends only what is in scope, and
remembered in ``sync_state``: when it changes, what fell out is deleted here at once and, if it
grew, the scoped doctypes are pulled again from the start (unchanged rows cost no writes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from appliance.store.masters import delete_masters
from appliance.store.models import (
    AddressLink,
    Base,
    Customer,
    CustomerGroup,
    ItemGroup,
    PosCustomerGroup,
    PosItemGroup,
    PosProfile,
    PriceList,
    SyncState,
)

SCOPE_KEY = "pull.scope"
ITEM, ITEM_PRICE, CUSTOMER, ADDRESS = "Item", "Item Price", "Customer", "Address"
LOYALTY_POINT_ENTRY = "Loyalty Point Entry"
COMPANY_DOCTYPES = (
    "Sales Taxes and Charges Template",
    "Item Tax Template",
    "Loyalty Program",
    LOYALTY_POINT_ENTRY,
)
# Rules whose empty company is a wildcard (FACTS §3.8 step 4, §3.9 "equal or blank"): those of
# the profile's company and those of none. Frappe reads "" in an ``in`` list as "or not set".
ANY_COMPANY_DOCTYPES = {"Tax Rule": "tax_rules", "Pricing Rule": "pricing_rules"}


def _t(name: str) -> Table:
    return Base.metadata.tables[name]


@dataclass(frozen=True)
class Scope:
    """A terminal's share of the masters. ``None`` in a dimension: everything."""

    profile: str | None = None
    company: str | None = None
    item_groups: tuple[str, ...] | None = None  # descendants included
    customer_groups: tuple[str, ...] | None = None
    price_lists: tuple[str, ...] | None = None  # selling price lists

    def filters(self, doctype: str) -> list[list[Any]]:
        """Server-side listing filters for ``doctype`` (empty: the whole doctype)."""
        if doctype == "POS Profile" and self.profile:
            return [["name", "=", self.profile]]
        if doctype in COMPANY_DOCTYPES and self.company:
            return [["company", "=", self.company]]
        if doctype in ANY_COMPANY_DOCTYPES and self.company:
            return [["company", "in", [self.company, ""]]]
        if doctype == ITEM and self.item_groups is not None:
            return [["item_group", "in", list(self.item_groups)]]
        if doctype == CUSTOMER and self.customer_groups is not None:
            return [["customer_group", "in", list(self.customer_groups)]]
        if doctype == ITEM_PRICE and self.price_lists is not None:
            return [["price_list", "in", list(self.price_lists)]]
        return []

    def exits(self, doctype: str) -> list[list[Any]] | None:
        """Filters matching documents that left the scope by a change of their own (an item
        moved to another group), or None when the doctype cannot leave it that way."""
        if doctype == ITEM and self.item_groups is not None:
            return [["item_group", "not in", list(self.item_groups)]]
        if doctype == CUSTOMER and self.customer_groups is not None:
            return [["customer_group", "not in", list(self.customer_groups)]]
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scope:
        raw = json.loads(text)
        return cls(
            profile=raw.get("profile"),
            company=raw.get("company"),
            **{
                key: tuple(raw[key]) if raw.get(key) is not None else None
                for key in ("item_groups", "customer_groups", "price_lists")
            },
        )

    def grown(self, old: Scope) -> set[str]:
        """Doctypes holding documents this scope admits and ``old`` did not."""

        def wider(new: tuple[str, ...] | None, before: tuple[str, ...] | None) -> bool:
            if new is None:
                return before is not None
            return before is not None and not set(new) <= set(before)

        out: set[str] = set()
        if wider(self.item_groups, old.item_groups):
            out |= {ITEM, ITEM_PRICE}
        if wider(self.price_lists, old.price_lists):
            out.add(ITEM_PRICE)
        if wider(self.customer_groups, old.customer_groups):
            out |= {CUSTOMER, ADDRESS}
        if self.company != old.company:
            out |= {*COMPANY_DOCTYPES, *ANY_COMPANY_DOCTYPES}
        return out


def _descendants(roots: Iterable[str], parents: Mapping[str, str | None]) -> tuple[str, ...]:
    children: dict[str, list[str]] = {}
    for name, parent in parents.items():
        if parent:
            children.setdefault(parent, []).append(name)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue  # a loop in the tree must not hang the pull
        seen.add(node)
        stack.extend(children.get(node, ()))
    return tuple(sorted(seen))


def load_scope(session: Session, profile_name: str | None) -> Scope:
    """The scope of ``profile_name`` as the store holds it now (everything when unknown)."""
    if not profile_name:
        return Scope()
    profile = session.get(PosProfile, profile_name)
    if profile is None:
        return Scope(profile=profile_name)
    item_roots = session.scalars(
        select(PosItemGroup.item_group).where(PosItemGroup.parent == profile_name)
    ).all()
    customer_roots = session.scalars(
        select(PosCustomerGroup.customer_group).where(PosCustomerGroup.parent == profile_name)
    ).all()
    item_groups = None
    if item_roots:
        tree = dict(session.execute(select(ItemGroup.name, ItemGroup.parent_item_group)).all())
        item_groups = _descendants(item_roots, tree)
    customer_groups = None
    if customer_roots:
        tree = dict(
            session.execute(select(CustomerGroup.name, CustomerGroup.parent_customer_group)).all()
        )
        customer_groups = _descendants(customer_roots, tree)
    price_lists = tuple(
        sorted(
            session.scalars(
                select(PriceList.name).where(
                    PriceList.selling.is_(True), PriceList.enabled.is_(True)
                )
            )
        )
    )
    return Scope(
        profile=profile_name,
        company=profile.company,
        item_groups=item_groups,
        customer_groups=customer_groups,
        # No selling price list held yet: do not filter prices by an empty list.
        price_lists=price_lists or None,
    )


def stored_scope(session: Session) -> Scope | None:
    row = session.get(SyncState, SCOPE_KEY)
    return Scope.from_json(row.value) if row is not None else None


def store_scope(session: Session, scope: Scope) -> None:
    row = session.get(SyncState, SCOPE_KEY)
    if row is None:
        session.add(SyncState(key=SCOPE_KEY, value=scope.to_json()))
    else:
        row.value = scope.to_json()


def drop_out_of_scope(session: Session, scope: Scope) -> dict[str, int]:
    """Delete what this terminal holds outside ``scope``; returns documents removed per doctype.

    Customers created on this till stay (it made them, its sales name them).
    """
    items, prices, addr = _t("items"), _t("item_prices"), _t("addresses")
    gone: dict[str, Any] = {}
    if scope.item_groups is not None:
        gone[ITEM] = select(items.c.name).where(items.c.item_group.not_in(scope.item_groups))
    if scope.customer_groups is not None:
        gone[CUSTOMER] = select(Customer.name).where(
            Customer.offline_id.is_(None),
            Customer.customer_group.is_(None)
            | Customer.customer_group.not_in(scope.customer_groups),
        )
    if scope.company is not None:
        for doctype, table in zip(
            COMPANY_DOCTYPES,
            (
                "sales_taxes_templates",
                "item_tax_templates",
                "loyalty_programs",
                "loyalty_point_entries",
            ),
            strict=True,
        ):
            t = _t(table)
            gone[doctype] = select(t.c.name).where(t.c.company != scope.company)
        for doctype, table in ANY_COMPANY_DOCTYPES.items():
            t = _t(table)
            gone[doctype] = select(t.c.name).where(
                t.c.company.is_not(None), t.c.company != "", t.c.company != scope.company
            )
    removed: dict[str, int] = {}
    for doctype, query in gone.items():
        removed[doctype] = delete_masters(session, doctype, list(session.scalars(query)))
    # Then what hangs on them: prices of items not held (or of other price lists) ...
    stale_prices = select(prices.c.name).where(
        prices.c.item_code.not_in(select(items.c.item_code))
        | (
            prices.c.price_list.not_in(scope.price_lists)
            if scope.price_lists is not None
            else prices.c.name.is_(None)
        )
    )
    removed[ITEM_PRICE] = delete_masters(session, ITEM_PRICE, list(session.scalars(stale_prices)))
    # ... and addresses that serve no customer held here.
    serving = select(AddressLink.parent).where(AddressLink.link_name.in_(select(Customer.name)))
    orphans = select(addr.c.name).where(addr.c.name.not_in(serving))
    removed[ADDRESS] = delete_masters(session, ADDRESS, list(session.scalars(orphans)))
    return {doctype: n for doctype, n in removed.items() if n}


def held_customers(session: Session, names: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(names))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.scalars(
                select(Customer.name).where(Customer.name.in_(wanted[start : start + 500]))
            )
        )
    return found


def held_items(session: Session, codes: Iterable[str]) -> set[str]:
    items = _t("items")
    wanted = list(dict.fromkeys(codes))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(items.c.item_code).where(items.c.item_code.in_(chunk))))
    return found


__all__ = [
    "SCOPE_KEY",
    "Scope",
    "drop_out_of_scope",
    "held_customers",
    "held_items",
    "load_scope",
    "store_scope",
    "stored_scope",
]

"""Cashiers from the POS Profile's users: who may sign in at this till, with what PIN and role.

``appliance erpnext setup`` adds two custom fields to ERPNext's POS Profile User rows:
``appliance_pin_hash`` (an argon2id hash; ``appliance erpnext set-pin`` writes it, the PIN itself
never leaves the person who typed it) and ``appliance_role`` ("Cashier" or "Supervisor"). The
pull maps the terminal profile's rows onto the ``cashiers`` table:

- a row with a hash: an enabled cashier with that hash and role;
- a row without a hash: kept, disabled (listed nowhere, cannot sign in);
- a cashier pulled from this profile whose row is gone: deleted (cannot sign in any more).

Cashiers set up on the till itself (``pos_profile`` empty: the demo's) are left alone unless
the profile gives the same user a hash, which takes them over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appliance.store.models import Cashier, CashierRole

PIN_HASH_FIELD = "appliance_pin_hash"
ROLE_FIELD = "appliance_role"
ROLES = {"cashier": CashierRole.CASHIER, "supervisor": CashierRole.SUPERVISOR}


@dataclass
class CashierChanges:
    enabled: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)  # listed, but without a PIN hash
    removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: len(v) for k, v in vars(self).items()}


def role_of(value: Any) -> CashierRole:
    """``appliance_role`` as the till's role; empty or unknown means a plain cashier."""
    return ROLES.get(str(value or "").strip().casefold(), CashierRole.CASHIER)


def apply_profile_users(
    session: Session,
    profile: str,
    rows: Sequence[Mapping[str, Any]],
    full_names: Mapping[str, str],
) -> CashierChanges:
    """Make the cashiers of ``profile`` match its user ``rows`` (in the caller's transaction).

    ``full_names`` maps users to User.full_name where ERPNext let us read it; the user id is
    shown otherwise.
    """
    changes = CashierChanges()
    wanted: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        user = str(row.get("user") or "").strip()
        if user:
            wanted[user] = row
    existing = {
        c.user: c
        for c in session.scalars(
            select(Cashier).where(Cashier.user.in_(list(wanted)) | (Cashier.pos_profile == profile))
        )
    }
    for user, row in wanted.items():
        pin_hash = str(row.get(PIN_HASH_FIELD) or "").strip()
        current = existing.get(user)
        if current is not None and current.pos_profile is None and not pin_hash:
            continue  # set up on this till, and ERPNext gives no PIN: not ours to change
        name = full_names.get(user) or user
        role = role_of(row.get(ROLE_FIELD))
        if current is None:
            current = Cashier(user=user, full_name=name, pin_hash=pin_hash, role=role)
            session.add(current)
        current.full_name = name
        current.pin_hash = pin_hash
        current.role = role
        current.enabled = bool(pin_hash)
        current.pos_profile = profile
        (changes.enabled if pin_hash else changes.disabled).append(user)
    gone = [u for u, c in existing.items() if c.pos_profile == profile and u not in wanted]
    if gone:
        session.execute(
            delete(Cashier)
            .where(Cashier.user.in_(gone))
            .execution_options(synchronize_session="fetch")
        )
        changes.removed.extend(gone)
    session.flush()
    return changes

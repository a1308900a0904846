"""Cashier PINs kept in ERPNext: ``appliance erpnext set-pin``.

A cashier signs in at the till offline, so the till needs a verifier it can check without asking
ERPNext: an argon2id hash on the cashier's row of the POS Profile's ``applicable_for_users``
(custom fields ``appliance_pin_hash`` and ``appliance_role``, made by ``appliance erpnext setup``),
pulled with the profile. The PIN itself is never stored, sent, logged or printed.

Frappe saves child rows only through their parent, so the whole table is written back with a
PUT of the POS Profile, with the ``modified`` it was read at: a concurrent edit of the profile
then fails (417 TimestampMismatchError) instead of being overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher

from appliance.agent.client import ERPNextClient
from appliance.agent.schema import CASHIER_ROLES, PIN_HASH_FIELD, ROLE_FIELD

PROFILE_DOCTYPE = "POS Profile"
USERS_TABLE = "applicable_for_users"
_PIN = re.compile(r"[0-9]{4,8}")


class PinError(ValueError):
    """A PIN, profile or user that cannot be used; the message says which and why."""


def check_pin(pin: str) -> str:
    if not _PIN.fullmatch(pin):
        raise PinError("a PIN is 4 to 8 digits")
    return pin


def hash_pin(pin: str, hasher: PasswordHasher | None = None) -> str:
    # The argon2-cffi defaults (argon2id) are what the till's verify_pin checks against.
    return (hasher or PasswordHasher()).hash(check_pin(pin))


@dataclass(frozen=True)
class PinSet:
    user: str
    profile: str
    role: str
    added: bool  # the user was not on the profile yet

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "pos_profile": self.profile,
            "role": self.role,
            "added": self.added,
        }


def set_pin(
    client: ERPNextClient, profile: str, user: str, pin_hash: str, role: str | None = None
) -> PinSet:
    """Store ``pin_hash`` (and ``role``, else the row's or Cashier) on ``user``'s profile row."""
    if role is not None and role not in CASHIER_ROLES:
        raise PinError(f"role must be one of {', '.join(CASHIER_ROLES)}")
    doc = client.get_doc(PROFILE_DOCTYPE, profile)
    if doc is None:
        raise PinError(f"POS Profile {profile!r} does not exist in ERPNext")
    rows = [dict(r) for r in doc.get(USERS_TABLE) or []]
    row = next((r for r in rows if r.get("user") == user), None)
    added = row is None
    if row is None:
        row = {"user": user, "default": 0}
        rows.append(row)
    row[PIN_HASH_FIELD] = pin_hash
    row[ROLE_FIELD] = role or row.get(ROLE_FIELD) or CASHIER_ROLES[0]
    saved = client.update(
        PROFILE_DOCTYPE, profile, {"modified": doc.get("modified"), USERS_TABLE: rows}
    )
    stored: dict[str, Any] = next(
        (r for r in saved.get(USERS_TABLE) or [] if r.get("user") == user), {}
    )
    if stored.get(PIN_HASH_FIELD) != pin_hash:
        # Frappe drops fields the doctype has no column for, silently.
        raise PinError(
            f"ERPNext did not keep {PIN_HASH_FIELD} on POS Profile User: "
            "run `appliance erpnext setup` first"
        )
    return PinSet(user, profile, str(stored.get(ROLE_FIELD) or row[ROLE_FIELD]), added)

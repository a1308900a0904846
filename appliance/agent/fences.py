"""Each till's ERPNext user reaches its own POS Appliance Terminal record, and no other.

The agent reports into its terminal record, so its role (Accounts User) may write the registry;
Frappe grants a role's rights on every record of a doctype. Without more, root on one till
(hence its API key) could set another till's ``target_release``, tick or clear its support
requests, mark it healthy, or list every till's hostname. A Frappe *User Permission* (user,
``allow`` = the terminal doctype, ``for_value`` = the till) limits that user to the records it
names: reads of others answer 403, listings leave them out, writes answer 403 (Frappe's
``has_user_permission`` and its list queries). ``applicable_for`` keeps the limit to the
registry itself, so the user's invoices (which link the terminal) are not filtered by it.

Setting them up needs an administrator (only a System Manager may read or write User
Permissions), so ``appliance erpnext setup --admin-key ...`` writes them, one per terminal that
names its ``erpnext_user``; ``--check`` says which are missing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.schema import SYSTEM_MANAGER, TERMINAL_DOCTYPE
from appliance.agent.setup_findings import Finding, SetupError, Status, step

USER_PERMISSION = "User Permission"
_FIELDS = ("name", "user", "allow", "for_value", "applicable_for", "apply_to_all_doctypes")


def fence_body(user: str, terminal: str) -> dict[str, Any]:
    """The User Permission that keeps ``user`` to ``terminal``'s record (and only there)."""
    return {
        "user": user,
        "allow": TERMINAL_DOCTYPE,
        "for_value": terminal,
        "applicable_for": TERMINAL_DOCTYPE,
        "apply_to_all_doctypes": 0,
    }


# A till may write its own record, its ERPNext User included: a name there is a claim to check.
ASK = "a till may write its own record: check who set it"


def _refusal(client: ERPNextClient, user: str, till: str, have: set[tuple[str, str]]) -> str:
    """Why ``user`` must not be fenced to ``till`` ("" if it may): a user already kept to
    another till's record (root on this till naming that till's user would widen its reach),
    or a System Manager (IT's own, which a fence would blind to the rest of the fleet)."""
    elsewhere = sorted(t for u, t in have if u == user and t != till)
    if elsewhere:
        return f"already fenced to {', '.join(elsewhere)}: not fenced to {till} too"
    doc = step(f"reading User {user}", lambda: client.get_doc("User", user)) or {}
    if any(r.get("role") == SYSTEM_MANAGER for r in doc.get("roles") or []):
        return "a System Manager: not fenced"
    return ""


def fence_findings(client: ERPNextClient, check: bool) -> list[Finding]:
    """One finding per registered terminal: its user is fenced (ok), was fenced now (created),
    or is not (missing: no user named, ``--check``, or a key that may not read the fences)."""
    rows = step(
        f"reading {TERMINAL_DOCTYPE}",
        lambda: client.get_list(
            TERMINAL_DOCTYPE, fields=["terminal_id", "erpnext_user"], limit_page_length=0
        ),
    )
    if not rows:
        return []  # nothing registered: nothing to fence
    try:
        fences = client.get_list(
            USER_PERMISSION,
            fields=_FIELDS,
            filters=[["allow", "=", TERMINAL_DOCTYPE]],
            limit_page_length=0,
        )
    except ERPNextError as exc:
        if exc.status != 403:
            raise SetupError(f"reading the {USER_PERMISSION}s", exc) from None
        why = "only a System Manager may read them: run setup with an administrator's --admin-key"
        return [Finding(Status.MISSING, "each till's user to its own record", why)]
    have = {(str(f.get("user")), str(f.get("for_value"))) for f in fences}
    out = []
    for row in sorted(rows, key=lambda r: str(r.get("terminal_id"))):
        till, user = str(row.get("terminal_id") or ""), str(row.get("erpnext_user") or "")
        if not user:
            detail = "names no ERPNext user: set one"
            out.append(Finding(Status.MISSING, f"{till} to its own record", detail))
            continue
        what = f"{user} to its own record {till}"
        if (user, till) in have:
            out.append(Finding(Status.OK, what))
        elif refused := _refusal(client, user, till, have):
            out.append(Finding(Status.MISSING, what, f"{refused} ({ASK})"))
        elif check:
            out.append(Finding(Status.MISSING, what, "not fenced"))
        else:
            fence = partial(client.insert, USER_PERMISSION, fence_body(user, till))
            step(f"fencing {what}", fence)
            out.append(Finding(Status.CREATED, what))
    return out

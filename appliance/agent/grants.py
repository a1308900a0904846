"""The appliance's own role, and the reads `erpnext setup` grants it.

A stock site keeps some doctypes the pull reads from the roles an integration user needs for its
invoices and shifts (schema.READ_ROLES: System Settings and Global Defaults are System Manager's;
measured on a real ERPNext 15.70.2, docs/realserver-runs.md). Giving the till's user System
Manager would open them, and everything else: writing any record, lifting the fence that keeps
it to its own terminal record (appliance.agent.fences). Instead setup creates the role
``POS Appliance`` and adds a read permission for it on each of those doctypes with Frappe's Role
Permission Manager (its ``add`` copies the doctype's standard permissions first, so nobody else's
access changes), as IT would in Setup > Role Permissions Manager. IT gives the till's user the
role, as it gives the others (a role only a person grants).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.schema import APPLIANCE_ROLE, READ_ROLES
from appliance.agent.setup_findings import Finding, SetupError, Status, step

ROLE = "Role"
PERMISSION_MANAGER = "frappe.core.page.permission_manager.permission_manager"


def _row(perms: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The role's level-0 permission row on a doctype, if it has one."""
    for p in perms:
        if p.get("role") == APPLIANCE_ROLE and not int(p.get("permlevel") or 0):
            return p
    return None


NOT_CHECKED = Finding(
    Status.OK,
    f"reads granted to {APPLIANCE_ROLE}",
    "not checked: this key may not read roles' permissions (its own reads are checked below)",
)


def grant_findings(client: ERPNextClient, check: bool) -> list[Finding]:
    """The role (ok / created / missing), then one finding per doctype it must read. A key
    that may not read permissions (a till's own, without --admin-key) checks none of it: what
    matters to it, its own reads, setup checks next."""
    try:
        role = client.get_doc(ROLE, APPLIANCE_ROLE)
        perms = {
            doctype: client.call(f"{PERMISSION_MANAGER}.get_permissions", doctype=doctype)
            for doctype in READ_ROLES
        }
    except ERPNextError as exc:
        if exc.status == 403:
            return [NOT_CHECKED]
        raise SetupError(f"reading the permissions of {', '.join(READ_ROLES)}", exc) from None
    out = []
    if role is not None:
        out.append(Finding(Status.OK, f"Role {APPLIANCE_ROLE}"))
    elif check:
        out.append(Finding(Status.MISSING, f"Role {APPLIANCE_ROLE}", "not created"))
    else:
        body = {"role_name": APPLIANCE_ROLE, "desk_access": 1}
        step(f"creating Role {APPLIANCE_ROLE}", partial(client.insert, ROLE, body))
        out.append(Finding(Status.CREATED, f"Role {APPLIANCE_ROLE}"))
    for doctype in READ_ROLES:
        what = f"read of {doctype} for {APPLIANCE_ROLE}"
        rows = perms[doctype]
        row = _row(rows if isinstance(rows, list) else [])
        if row is not None and int(row.get("read") or 0):
            out.append(Finding(Status.OK, what))
        elif check:
            out.append(Finding(Status.MISSING, what, "not granted"))
        elif row is None:  # a new row: read only
            add = partial(
                client.post_method,
                f"{PERMISSION_MANAGER}.add",
                parent=doctype,
                role=APPLIANCE_ROLE,
                permlevel=0,
            )
            step(f"granting {what}", add)
            out.append(Finding(Status.CREATED, what))
        else:  # a row someone left without read
            update = partial(
                client.post_method,
                f"{PERMISSION_MANAGER}.update",
                doctype=doctype,
                role=APPLIANCE_ROLE,
                permlevel=0,
                ptype="read",
                value=1,
            )
            step(f"granting {what}", update)
            out.append(Finding(Status.UPDATED, what))
    return out

"""What the appliance needs in ERPNext besides ERPNext itself: custom fields, one custom DocType
and the integration user's roles. ``appliance erpnext setup`` creates and checks these; the fake
ERPNext starts with them unless told to start bare.

Everything is plain data (the bodies sent over REST), so the setup code, the fake and the docs
cannot drift apart. Only the properties listed in ``props`` are checked on an existing site:
labels and positions are the site's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.sales.payload import (
    EXEMPTION_FIELD,
    JOURNAL_FIELD,
    OFFLINE_ID_FIELD,
    TERMINAL_FIELD,
)

PIN_HASH_FIELD = "appliance_pin_hash"
ROLE_FIELD = "appliance_role"
PROFILE_USER_DOCTYPE = "POS Profile User"
TERMINAL_DOCTYPE = "POS Appliance Terminal"
CASHIER_ROLES = ("Cashier", "Supervisor")

# The doctypes the agent writes with an offline id (v16 posts Sales Invoices), and Customer,
# which the till may create offline.
SYNCED_DOCTYPES = ("POS Invoice", "Sales Invoice", "POS Opening Entry", "POS Closing Entry")
SALE_DOCTYPES = SYNCED_DOCTYPES[:2]
# Where each new field goes on the form: after the first field a person reads.
_FIRST_FIELD = {
    "POS Invoice": "naming_series",  # recorded/23
    "Sales Invoice": "naming_series",
    "POS Opening Entry": "period_start_date",
    "POS Closing Entry": "period_start_date",
    "Customer": "customer_name",  # recorded/24
}


@dataclass(frozen=True)
class FieldSpec:
    """One Custom Field. Frappe names it ``<dt>-<fieldname>`` (recorded/23-24)."""

    dt: str
    fieldname: str
    label: str
    fieldtype: str
    insert_after: str
    props: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.dt}-{self.fieldname}"

    @property
    def wanted(self) -> dict[str, Any]:
        """The properties an existing field must have."""
        return {"fieldtype": self.fieldtype, **self.props}

    def body(self) -> dict[str, Any]:
        return {
            "dt": self.dt,
            "fieldname": self.fieldname,
            "label": self.label,
            "insert_after": self.insert_after,
            **self.wanted,
        }


_OFFLINE_ID = {"unique": 1, "no_copy": 1, "read_only": 1, "search_index": 1}
_TERMINAL = {"read_only": 1, "no_copy": 1}

CUSTOM_FIELDS: tuple[FieldSpec, ...] = (
    *(
        FieldSpec(dt, OFFLINE_ID_FIELD, "Offline ID", "Data", _FIRST_FIELD[dt], _OFFLINE_ID)
        for dt in (*SYNCED_DOCTYPES, "Customer")
    ),
    *(
        FieldSpec(dt, TERMINAL_FIELD, "Appliance Terminal", "Data", OFFLINE_ID_FIELD, _TERMINAL)
        for dt in SYNCED_DOCTYPES
    ),
    *(
        FieldSpec(dt, JOURNAL_FIELD, "Appliance Journal", "Data", TERMINAL_FIELD, _TERMINAL)
        for dt in SALE_DOCTYPES
    ),
    # The tax exemption certificate a supervisor approved at the till (shown on the invoice).
    *(
        FieldSpec(dt, EXEMPTION_FIELD, "Exemption Certificate", "Data", JOURNAL_FIELD, _TERMINAL)
        for dt in SALE_DOCTYPES
    ),
    # The till signs cashiers in offline, so their PIN hashes travel with the profile's users.
    FieldSpec(
        PROFILE_USER_DOCTYPE, PIN_HASH_FIELD, "Appliance PIN Hash", "Data", "user", {"hidden": 1}
    ),
    FieldSpec(
        PROFILE_USER_DOCTYPE,
        ROLE_FIELD,
        "Appliance Role",
        "Select",
        PIN_HASH_FIELD,
        {"options": "\n".join(CASHIER_ROLES), "default": CASHIER_ROLES[0]},
    ),
)
CUSTOM_FIELDNAMES = frozenset(f.fieldname for f in CUSTOM_FIELDS)

# Frappe's names for the rights in a DocPerm row.
ALL_RIGHTS = ("read", "write", "create", "delete", "report", "export", "print", "email", "share")
SYSTEM_MANAGER = "System Manager"
# The integration user's role that may read the terminal registry (§5.6: it has Accounts User).
TERMINAL_READER = "Accounts User"


@dataclass(frozen=True)
class _ReportFields:
    """The terminal record's fields the agent reports into (its fleet view)."""

    release: str = "reported_release"
    last_seen: str = "last_seen"
    healthy: str = "healthy"
    problems: str = "health_problems"
    link: str = "link_state"
    unsent: str = "unsent_documents"
    quarantined: str = "quarantined_documents"
    quarantine_reasons: str = "quarantine_reasons"
    last_pull: str = "last_pull"
    disk_free_mb: str = "disk_free_mb"
    vault: str = "vault_state"


REPORT_FIELDS = _ReportFields()
SUPPORT_REQUEST = "support_bundle_requested"
SUPPORT_FILE = "support_bundle_file"
SUPPORT_AT = "support_bundle_at"


def _df(fieldname: str, label: str, fieldtype: str, **props: Any) -> dict[str, Any]:
    return {"fieldname": fieldname, "label": label, "fieldtype": fieldtype, **props}


TERMINAL_FIELDS: tuple[dict[str, Any], ...] = (
    _df("terminal_id", "Terminal ID", "Data", reqd=1, unique=1, in_list_view=1),
    _df("enabled", "Enabled", "Check", default="1", in_list_view=1),
    _df("hostname", "Hostname", "Data", in_list_view=1),
    _df("ssh_port", "SSH Port", "Int", default="22"),
    _df("branch", "Branch", "Link", options="Branch"),
    _df("pos_profile", "POS Profile", "Link", options="POS Profile"),
    # The user its API key belongs to: ERPNext 16 lets one user hold one open shift.
    _df("erpnext_user", "ERPNext User", "Link", options="User"),
    _df("ring", "Ring", "Select", options="canary\nearly\nstable", default="stable"),
    _df("target_release", "Target Release", "Data"),
    # A JSON object mirroring the terminal's TOML [devices] section.
    _df("device_settings", "Device Settings", "Code", options="JSON"),
    _df("inactivity_lock_seconds", "Inactivity Lock (seconds)", "Int"),
    # The fleet view (docs/agent.md, "Fleet view"): written by the till's agent, read-only on
    # the form, so IT sees every till, NAT or not, in one list.
    _df("fleet_section", "Fleet View", "Section Break"),
    _df(REPORT_FIELDS.release, "Running Release", "Data", read_only=1, in_list_view=1),
    _df(REPORT_FIELDS.last_seen, "Last Seen", "Datetime", read_only=1, in_list_view=1),
    _df(REPORT_FIELDS.healthy, "Healthy", "Check", read_only=1, in_list_view=1),
    _df(REPORT_FIELDS.problems, "Health Problems", "Small Text", read_only=1),
    _df(REPORT_FIELDS.link, "ERPNext Link", "Data", read_only=1),
    _df(REPORT_FIELDS.unsent, "Unsent Documents", "Int", read_only=1),
    _df(REPORT_FIELDS.quarantined, "Quarantined Documents", "Int", read_only=1),
    _df(REPORT_FIELDS.quarantine_reasons, "Quarantine Reasons", "Small Text", read_only=1),
    _df(REPORT_FIELDS.last_pull, "Last Pull", "Datetime", read_only=1),
    _df(REPORT_FIELDS.disk_free_mb, "Disk Free (MiB)", "Int", read_only=1),
    _df(REPORT_FIELDS.vault, "Vault", "Data", read_only=1),
    # Support ticks the request; the agent attaches a bundle and clears it (docs/agent.md).
    _df("support_section", "Support", "Section Break"),
    _df(SUPPORT_REQUEST, "Support Bundle Requested", "Check", default="0"),
    _df(SUPPORT_FILE, "Last Support Bundle", "Data", read_only=1),
    _df(SUPPORT_AT, "Support Bundle Attached At", "Datetime", read_only=1),
)
# Compared on an existing DocType's fields (labels and list-view flags are cosmetic).
FIELD_PROPS = ("fieldtype", "options", "reqd", "unique", "default")
TERMINAL_PERMISSIONS: tuple[dict[str, Any], ...] = (
    {"role": SYSTEM_MANAGER, "permlevel": 0, **dict.fromkeys(ALL_RIGHTS, 1)},
    # Write: each till's agent reports into its own record (the fleet view) and clears a
    # support request it answered. Frappe has no per-record rights for a role; a till's key can
    # change other records too (docs/agent.md, "Fleet view", says what that means).
    {"role": TERMINAL_READER, "permlevel": 0, "read": 1, "write": 1},
)
TERMINAL_DOCTYPE_PROPS: dict[str, Any] = {
    "custom": 1,
    "module": "Selling",
    "autoname": "field:terminal_id",
    "naming_rule": "By fieldname",
}


def terminal_doctype_body() -> dict[str, Any]:
    return {
        "name": TERMINAL_DOCTYPE,
        **TERMINAL_DOCTYPE_PROPS,
        "track_changes": 1,
        "sort_field": "modified",
        "sort_order": "DESC",
        "fields": [dict(f) for f in TERMINAL_FIELDS],
        "permissions": [dict(p) for p in TERMINAL_PERMISSIONS],
    }


# Doctypes the agent reads whose stock DocPerms give read to none of the invoice and shift roles
# above (a real ERPNext 15.70.2 answered 403 to Accounts User + Sales Manager + Sales User + Stock
# User; docs/realserver-runs.md): any one role listed opens the read. Administrator reads all.
READ_ROLES: dict[str, tuple[str, ...]] = {
    "System Settings": (SYSTEM_MANAGER,),
    "Global Defaults": (SYSTEM_MANAGER,),
    "Tax Rule": ("Accounts Manager",),
    "Item Price": ("Sales Master Manager", "Purchase Master Manager"),
    # Found on the same site once those four were open (their DocType JSONs agree).
    "Batch": ("Item Manager",),
    "Loyalty Program": (SYSTEM_MANAGER,),
}
# The appliance's own role: `erpnext setup` grants it read (only) on READ_ROLES' doctypes through
# Frappe's Role Permission Manager, so a till's user pulls without System Manager (which could
# lift its fence, appliance.agent.fences, and write anything on the site).
APPLIANCE_ROLE = "POS Appliance"


@dataclass(frozen=True)
class RoleNeed:
    """Something the agent does that only some roles may do (FACTS §5.6)."""

    what: str
    roles: tuple[str, ...]  # any one of them is enough


ROLE_NEEDS: tuple[RoleNeed, ...] = (
    RoleNeed("create and submit POS/Sales Invoices", ("Accounts User", "Accounts Manager")),
    RoleNeed(
        "read the site's settings, tax rules, prices, batches and loyalty programs",
        (APPLIANCE_ROLE, SYSTEM_MANAGER),
    ),
    RoleNeed(
        "create and submit POS Opening and Closing Entries",
        ("Sales Manager", SYSTEM_MANAGER, "Administrator"),
    ),
)

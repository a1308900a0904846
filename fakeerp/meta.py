"""The fake site's schema changes: Custom Fields, custom DocTypes and who may make them.

Frappe keeps a site's customisations in documents, so the fake does too, in the site's own
``docs``. A ``Custom Field`` document (named ``<dt>-<fieldname>``, recorded/23-24) adds a column
to its ``dt``: filters may use it, inserts keep it, ``unique`` is enforced. A ``DocType`` document
with ``custom: 1`` makes a new doctype with its fields, naming, defaults and unique columns.
Until then a filter on such a field answers 417 DataError "Field not permitted in query" and an
insert silently drops it, as on a real site. Only System Manager (or Administrator) may write
either doctype.

The fake has no full schema of ERPNext's own doctypes: there, only the fieldnames the appliance
adds (and any Custom Field's) are treated as columns that may be missing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from appliance.agent.schema import (
    APPLIANCE_ROLE,
    CUSTOM_FIELDNAMES,
    CUSTOM_FIELDS,
    READ_ROLES,
    SYSTEM_MANAGER,
    terminal_doctype_body,
)
from fakeerp import errors
from fakeerp.errors import no_permission

Doc = dict[str, Any]

CUSTOM_FIELD = "Custom Field"
DOCTYPE = "DocType"
ADMINISTRATOR = "Administrator"
USER_PERMISSION = "User Permission"
ROLE = "Role"
STANDARD_FIELDS = frozenset(
    {"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "doctype"}
    | {"parent", "parentfield", "parenttype", "_user_tags", "_comments", "_assign", "_liked_by"}
)
# A Custom Field as Frappe answers it (recorded/23): every property, zero unless given.
_CUSTOM_FIELD_FLAGS = [
    "is_system_generated",
    "hide_seconds",
    "hide_days",
    "sort_options",
    "fetch_if_empty",
    "collapsible",
    "non_negative",
    "reqd",
    "unique",
    "is_virtual",
    "read_only",
    "ignore_user_permissions",
    "hidden",
    "print_hide",
    "print_hide_if_no_value",
    "no_copy",
    "allow_on_submit",
    "in_list_view",
    "in_standard_filter",
    "in_global_search",
    "in_preview",
    "bold",
    "report_hide",
    "search_index",
    "allow_in_quick_entry",
    "ignore_xss_filter",
    "translatable",
    "hide_border",
    "show_dashboard",
    "permlevel",
    "columns",
    "length",
]
_INT_TYPES = {"Check", "Int"}
DATA_LENGTH = 140  # a Data column's varchar length unless the field sets `length`
_LAYOUT_TYPES = {"Section Break", "Column Break", "Tab Break"}
# The integration user's roles on a fake site unless a test sets others: what FACTS §5.6 asks
# for, what a stock site's READ_ROLES need, and System Manager (also so the agent's own key can
# set up a bare fake).
DEFAULT_ROLES = (
    APPLIANCE_ROLE,
    "Accounts User",
    "Sales Manager",
    "Sales User",
    "Stock User",
    "Sales Master Manager",
    "Accounts Manager",
    SYSTEM_MANAGER,
)
# Roles every site has (the ones tests name); others exist once a Role document is made.
_STANDARD_ROLES = frozenset(DEFAULT_ROLES) | {r for rs in READ_ROLES.values() for r in rs}


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _scrub(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.strip().lower()).strip("_")


def _new_row_name() -> str:
    return secrets.token_hex(5)


class Meta:
    def __init__(self, docs: dict[str, dict[str, Doc]], known: Callable[[str], bool]) -> None:
        self.docs = docs  # the site's own, shared: a Custom Field is just another document
        self._known = known  # the site's own doctypes (standard ones included)
        # Who may read what a stock site keeps to a few roles; a test adds a role to one as an
        # administrator's Role Permissions Manager grant would.
        self.read_roles = {doctype: list(roles) for doctype, roles in READ_ROLES.items()}
        docs.setdefault(CUSTOM_FIELD, {})
        docs.setdefault(DOCTYPE, {})

    # -- the schema as the documents say ---------------------------------------------------------
    def custom_fields(self, doctype: str) -> dict[str, Doc]:
        return {
            str(cf.get("fieldname")): cf
            for cf in self.docs[CUSTOM_FIELD].values()
            if cf.get("dt") == doctype
        }

    def custom_doctype(self, doctype: str) -> Doc | None:
        doc = self.docs[DOCTYPE].get(doctype)
        return doc if doc is not None and _int(doc.get("custom")) else None

    def is_doctype(self, doctype: str) -> bool:
        return doctype in (CUSTOM_FIELD, DOCTYPE) or self.custom_doctype(doctype) is not None

    def _fields(self, doctype: str) -> dict[str, Doc]:
        """Declared fields: a custom doctype's own, then Custom Fields."""
        own = self.custom_doctype(doctype)
        fields = {str(f.get("fieldname")): f for f in (own or {}).get("fields") or []}
        return {**fields, **self.custom_fields(doctype)}

    def knows(self, doctype: str, fieldname: str) -> bool:
        """May ``fieldname`` be used in a filter on ``doctype``?"""
        if fieldname in STANDARD_FIELDS or fieldname in self._fields(doctype):
            return True
        if self.custom_doctype(doctype) is not None:
            return False  # its whole schema is known
        return fieldname not in self._custom_names()

    def _custom_names(self) -> set[str]:
        names = {str(cf.get("fieldname")) for cf in self.docs[CUSTOM_FIELD].values()}
        return names | CUSTOM_FIELDNAMES

    def doctypes_with(self, fieldname: str) -> set[str]:
        return {
            str(cf.get("dt"))
            for cf in self.docs[CUSTOM_FIELD].values()
            if cf.get("fieldname") == fieldname
        }

    # -- roles -----------------------------------------------------------------------------------
    def give_roles(self, users: Iterable[str], roles: Iterable[str] = DEFAULT_ROLES) -> None:
        """Has Role rows for users that have none yet (recorded/84's shape)."""
        wanted = list(roles)
        for user in users:
            doc = self.docs.get("User", {}).get(user)
            if doc is None or "roles" in doc:
                continue
            doc["roles"] = [
                {
                    "name": _new_row_name(),
                    "idx": n,
                    "role": role,
                    "parent": user,
                    "parentfield": "roles",
                    "parenttype": "User",
                    "doctype": "Has Role",
                }
                for n, role in enumerate(wanted, 1)
            ]

    def permit_read(self, doctype: str, user: str, *, single: bool = False) -> None:
        """A read of a doctype whose DocPerms exclude the user's roles answers 403, as a real
        site does (READ_ROLES)."""
        roles = self.read_roles.get(doctype)
        if roles is None or user == ADMINISTRATOR:
            return
        doc = self.docs.get("User", {}).get(user) or {}
        if not {r.get("role") for r in doc.get("roles") or []}.intersection(roles):
            raise no_permission(user, doctype, single=single)

    def install_grants(self) -> None:
        """As `erpnext setup` leaves a site (appliance.agent.grants): the appliance's role, and
        its read of every doctype a stock site keeps from the till's other roles."""
        self.docs.setdefault(ROLE, {})[APPLIANCE_ROLE] = {
            "doctype": ROLE,
            "name": APPLIANCE_ROLE,
            "role_name": APPLIANCE_ROLE,
            "desk_access": 1,
        }
        for roles in self.read_roles.values():
            if APPLIANCE_ROLE not in roles:
                roles.append(APPLIANCE_ROLE)

    # -- Role Permission Manager (frappe.core.page.permission_manager), for READ_ROLES ---------
    def permissions_of(self, doctype: str, user: str) -> list[Doc]:
        """``get_permissions``: the doctype's level-0 read rows (System Manager only)."""
        self._permit(ROLE, user)
        return [
            {"parent": doctype, "role": role, "permlevel": 0, "read": 1, "if_owner": 0}
            for role in self.read_roles.get(doctype, [])
        ]

    def grant_read(self, doctype: str, role: str, user: str) -> None:
        """``add`` (and ``update`` of read): Frappe copies the standard rows to Custom DocPerms
        first, so the roles that read before still do; a doctype everyone reads stays so."""
        self._permit(ROLE, user)
        if role not in self.docs.get(ROLE, {}) and role not in _STANDARD_ROLES:
            raise errors.link_error("Role", role)
        roles = self.read_roles.get(doctype)
        if roles is not None and role not in roles:
            roles.append(role)

    def _may_customise(self, user: str) -> bool:
        if user == ADMINISTRATOR:
            return True
        doc = self.docs.get("User", {}).get(user) or {}
        return any(r.get("role") == SYSTEM_MANAGER for r in doc.get("roles") or [])

    # -- writes ----------------------------------------------------------------------------------
    def installed(self) -> list[Doc]:
        """What ``appliance erpnext setup`` leaves on a site, as the site would store it."""
        fields = [self._shape_custom_field(spec.body()) for spec in CUSTOM_FIELDS]
        for n, doc in enumerate(fields, 1):
            doc.update(doctype=CUSTOM_FIELD, name=f"{doc['dt']}-{doc['fieldname']}", idx=n)
        terminal = {"doctype": DOCTYPE, **terminal_doctype_body()}
        for table in ("fields", "permissions"):
            for n, row in enumerate(terminal[table], 1):
                row.update(name=_new_row_name(), idx=n, parent=terminal["name"])
        return [*fields, terminal]

    def name_for(self, doctype: str, doc: Doc) -> str | None:
        """The name Frappe gives a new document of these doctypes; None: not ours to name."""
        if doctype == CUSTOM_FIELD:
            if not doc.get("fieldname") and doc.get("label"):
                # recorded README: a field posted with only a label gets a custom_ prefix.
                doc["fieldname"] = "custom_" + _scrub(str(doc["label"]))
            return f"{doc.get('dt') or ''}-{doc.get('fieldname') or ''}"
        if doctype == ROLE:  # autoname field:role_name
            return str(doc.get("role_name") or "")
        own = self.custom_doctype(doctype)
        if own is not None:
            autoname = str(own.get("autoname") or "")
            if autoname.startswith("field:"):
                return str(doc.get(autoname[len("field:") :]) or "")
        return None

    def validate(self, doctype: str, doc: Doc, user: str, *, existing: bool = False) -> None:
        if doctype == CUSTOM_FIELD:
            self._permit(doctype, user)
            self._validate_custom_field(doc, existing)
        elif doctype == DOCTYPE:
            self._permit(doctype, user)
            self._validate_doctype(doc, user, existing)
        elif doctype == USER_PERMISSION:
            self._permit(doctype, user)
            self._validate_user_permission(doc)
        elif doctype == ROLE:
            self._permit(doctype, user)
            if not doc.get("role_name"):
                raise errors.mandatory(ROLE, "", ["role_name"])
        elif self.custom_doctype(doctype) is not None:
            self.permit_doc(doctype, user, "write" if existing else "create")
            self._validate_custom_doc(doctype, doc, existing)
        if existing:
            self.permit_record(doctype, str(doc.get("name") or ""), user)

    def _permit(self, doctype: str, user: str) -> None:
        if not self._may_customise(user):
            raise no_permission(user, doctype)

    def permit_listing(self, doctype: str, user: str) -> None:
        """User Permissions are a System Manager's to read (their DocPerm), like schema."""
        if doctype == USER_PERMISSION:
            self._permit(doctype, user)

    # -- User Permissions: Frappe's has_user_permission, for the document's own doctype -------
    def fenced_to(self, user: str, doctype: str) -> set[str] | None:
        """The names of ``doctype`` that User Permissions keep ``user`` to (None: no limit).
        Administrator is never limited; a permission for another ``applicable_for`` doctype
        limits only that doctype's links, not these records."""
        if user == ADMINISTRATOR:
            return None
        names = {
            str(p.get("for_value"))
            for p in self.docs.get(USER_PERMISSION, {}).values()
            if p.get("user") == user
            and p.get("allow") == doctype
            and p.get("applicable_for") in (None, "", doctype)
        }
        return names or None

    def permit_record(self, doctype: str, name: str, user: str) -> None:
        allowed = self.fenced_to(user, doctype)
        if allowed is not None and name not in allowed:
            raise errors.fenced(user, doctype, name)

    def _validate_user_permission(self, doc: Doc) -> None:
        missing = [f for f in ("user", "allow", "for_value") if not doc.get(f)]
        if missing:
            raise errors.mandatory(USER_PERMISSION, str(doc.get("name") or ""), missing)
        if str(doc["user"]) not in self.docs.get("User", {}):
            raise errors.link_error("User", str(doc["user"]))
        allow = str(doc["allow"])
        if not (self._known(allow) or self.is_doctype(allow)):
            raise errors.link_error("Allow", allow)
        if str(doc["for_value"]) not in self.docs.get(allow, {}):
            raise errors.link_error("For Value", str(doc["for_value"]))
        doc["apply_to_all_doctypes"] = _int(doc.get("apply_to_all_doctypes"))

    def permit_doc(self, doctype: str, user: str, right: str) -> None:
        """A custom doctype's DocPerm rows at level 0 decide, as Frappe's has_permission does."""
        if user == ADMINISTRATOR:
            return
        own = self.custom_doctype(doctype) or {}
        held = {
            r.get("role") for r in (self.docs.get("User", {}).get(user) or {}).get("roles") or []
        }
        for perm in own.get("permissions") or []:
            if (
                not _int(perm.get("permlevel"))
                and perm.get("role") in held
                and _int(perm.get(right))
            ):
                return
        raise no_permission(user, doctype)

    def _shape_custom_field(self, doc: Doc) -> Doc:
        for flag in _CUSTOM_FIELD_FLAGS:
            doc[flag] = _int(doc.get(flag))
        doc.setdefault("fieldtype", "Data")
        doc.setdefault("precision", "")
        return doc

    def _validate_custom_field(self, doc: Doc, existing: bool) -> None:
        dt = str(doc.get("dt") or "")
        if not dt:
            raise errors.mandatory(CUSTOM_FIELD, str(doc.get("name") or ""), ["dt"])
        if not (self._known(dt) or self.is_doctype(dt)):
            raise errors.link_error("Document", dt)
        if not doc.get("fieldname"):
            raise errors.validation("Fieldname not set for Custom Field")
        own = self.custom_doctype(dt)
        if own is not None and doc["fieldname"] in {f.get("fieldname") for f in own["fields"]}:
            raise errors.validation(
                f"Fieldname {doc['fieldname']} conflicting with meta object", "Duplicate Field"
            )
        self._shape_custom_field(doc)

    def _validate_doctype(self, doc: Doc, user: str, existing: bool) -> None:
        name = str(doc.get("name") or "")
        if not existing and (self._known(name) or self.is_doctype(name)):
            raise errors.duplicate_name(DOCTYPE, name)
        if not _int(doc.get("custom")) and user != ADMINISTRATOR:
            raise errors.validation(
                "Not in Developer Mode! Set in site_config.json or make 'Custom' DocType."
            )
        fieldnames = set()
        for n, row in enumerate(doc.get("fields") or [], 1):
            if not row.get("fieldname") or not row.get("fieldtype"):
                raise errors.validation(f"Row #{n}: Fieldname and Type are required")
            fieldnames.add(row["fieldname"])
        autoname = str(doc.get("autoname") or "")
        if autoname.startswith("field:") and autoname[len("field:") :] not in fieldnames:
            raise errors.validation(f"Invalid fieldname '{autoname[6:]}' in autoname")

    def _validate_custom_doc(self, doctype: str, doc: Doc, existing: bool) -> None:
        fields = self._fields(doctype)
        missing = []
        for fieldname, df in fields.items():
            fieldtype = df.get("fieldtype")
            if fieldtype in _LAYOUT_TYPES:  # no column: Frappe stores no value for these
                doc.pop(fieldname, None)
                continue
            if not existing and fieldname not in doc:
                default = df.get("default")
                doc[fieldname] = _int(default) if fieldtype in _INT_TYPES else default or None
            value = doc.get(fieldname)
            if fieldtype in _INT_TYPES and value is not None:
                doc[fieldname] = _int(value)
            label = str(df.get("label") or errors.label(fieldname))
            limit = _int(df.get("length")) or DATA_LENGTH
            if fieldtype == "Data" and isinstance(value, str) and len(value) > limit:
                # varchar(140): Frappe's _validate_length refuses rather than truncating.
                raise errors.FrappeError(
                    417,
                    "CharacterLengthExceededError",
                    f"{label}: Value too big: {len(value)} characters, at most {limit}",
                )
            if _int(df.get("reqd")) and value in (None, ""):
                missing.append(fieldname)
            elif fieldtype == "Select" and value not in (None, ""):
                options = [o for o in str(df.get("options") or "").split("\n") if o]
                if options and value not in options:
                    raise errors.validation(
                        f'{label} cannot be "{value}". It should be one of '
                        + ", ".join(f'"{o}"' for o in options)
                    )
            elif fieldtype == "Link" and value not in (None, ""):
                target = str(df.get("options") or "")
                # Only links to doctypes the fake holds can be checked (it has no Branch list).
                if target in self.docs and str(value) not in self.docs[target]:
                    raise errors.link_error(label, str(value))
        if missing:
            raise errors.mandatory(doctype, str(doc.get("name") or ""), missing)

    def strip_unknown(self, doctype: str, doc: Doc, tables: Mapping[str, str]) -> None:
        """Drop the fields the doctype has no column for, as Frappe's insert and save do."""
        for key in [k for k in doc if k not in tables and not self.knows(doctype, k)]:
            doc.pop(key)
        for fieldname, child in tables.items():
            for row in doc.get(fieldname) or []:
                for key in [k for k in row if not self.knows(child, k)]:
                    row.pop(key)

    def check_unique(
        self, doctype: str, doc: Doc, notes: list[dict[str, Any]], *, existing: bool = False
    ) -> None:
        """417 UniqueValidationError for a value another document holds (recorded/28, 32)."""
        for fieldname, df in self._fields(doctype).items():
            value = doc.get(fieldname)
            if not _int(df.get("unique")) or value in (None, ""):
                continue
            for other in self.docs.get(doctype, {}).values():
                if other.get(fieldname) != value or (existing and other["name"] == doc["name"]):
                    continue
                label = str(df.get("label") or errors.label(fieldname))
                err = errors.unique_error(doctype, doc["name"], label, str(value), fieldname)
                err.notes[:0] = notes
                raise err

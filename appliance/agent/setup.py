"""``appliance erpnext setup``: make an ERPNext site ready for the appliance, or say what is not.

Everything goes through the REST API as a System Manager may use it (no change to ERPNext's
code): each Custom Field of :mod:`appliance.agent.schema` is read by its Frappe name
(``<DocType>-<fieldname>``), created when absent and corrected when a checked property differs;
the same for the custom DocType ``POS Appliance Terminal`` (its fields and permission rows are
merged, never removed). Then the integration user is checked: the roles FACTS §5.6 asks for
(read from its User document) and a one-row read of every doctype the agent pulls or looks up.
Last, each registered till's ERPNext user is fenced to its own terminal record
(:mod:`appliance.agent.fences`).

Reads come first and only differences are written, so a second run writes nothing. With
``check`` nothing is written at all. An ERPNext error stops the run with :class:`SetupError`,
one line naming the step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.agent import server_mode
from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.fences import fence_findings
from appliance.agent.grants import grant_findings
from appliance.agent.pull import SINGLES
from appliance.agent.schema import (
    ALL_RIGHTS,
    APPLIANCE_ROLE,
    CUSTOM_FIELDS,
    FIELD_PROPS,
    READ_ROLES,
    ROLE_NEEDS,
    SYNCED_DOCTYPES,
    TERMINAL_DOCTYPE,
    TERMINAL_DOCTYPE_PROPS,
    TERMINAL_FIELDS,
    TERMINAL_PERMISSIONS,
    FieldSpec,
    terminal_doctype_body,
)
from appliance.agent.setup_findings import (
    ADMINISTRATOR,
    Finding,
    SetupError,
    SetupReport,
    Status,
    explain,
    step,
)
from appliance.store.masters import DOCTYPES as PULLED_DOCTYPES
from appliance.store.sales import OPENING_DOCTYPE


def run_setup(
    client: ERPNextClient,
    *,
    check: bool = False,
    agent: ERPNextClient | None = None,
    terminal: str | None = None,
    pos_profile: str | None = None,
) -> SetupReport:
    """Set up (or with ``check`` only inspect) the site behind ``client``.

    ``agent`` is the integration user's own client when ``client`` is an administrator's: its
    roles and reads are the ones checked. ``terminal`` and ``pos_profile`` are this till's: what
    it shares with other tills is reported (:func:`_sharing`).
    """
    agent = agent or client
    user = step("asking ERPNext whose API key this is", agent.logged_user)
    report = SetupReport(user, check)
    for spec in CUSTOM_FIELDS:
        report.findings.append(_custom_field(client, spec, check))
    registry = _terminal_doctype(client, check)
    report.findings.append(registry)
    report.findings += grant_findings(client, check)
    report.findings += _roles(client, user)
    report.findings += _reads(agent, registry=registry.status is not Status.MISSING)
    if registry.status is not Status.MISSING:
        # The registry as the writer sees it: a till's own key is fenced to its own record.
        report.findings += _sharing(client, user, terminal, pos_profile)
        report.findings += fence_findings(client, check)
    return report


# -- comparing --------------------------------------------------------------------------------
def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, int):
        try:
            return int(actual or 0) == wanted
        except (TypeError, ValueError):
            return False
    return str(actual if actual is not None else "") == str(wanted)


def _differences(doc: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in wanted.items() if not _same(doc.get(k), v)}


def _describe(doc: Mapping[str, Any], wrong: Mapping[str, Any], prefix: str = "") -> list[str]:
    return [f"{prefix}{k} is {doc.get(k)!r}, want {v!r}" for k, v in wrong.items()]


# -- custom fields ----------------------------------------------------------------------------
def _custom_field(client: ERPNextClient, spec: FieldSpec, check: bool) -> Finding:
    what = f"Custom Field {spec.name}"
    doc = step(f"reading {what}", lambda: client.get_doc("Custom Field", spec.name))
    if doc is None:
        if check:
            return Finding(Status.MISSING, what, "not created")
        made = step(f"creating {what}", lambda: client.insert("Custom Field", spec.body()))
        if made.doc.get("name") != spec.name:
            # ERPNext keeps the fieldname it is given (README); anything else breaks the agent.
            return Finding(Status.MISSING, what, f"ERPNext named it {made.doc.get('name')!r}")
        return Finding(Status.CREATED, what)
    wrong = _differences(doc, spec.wanted)
    if not wrong:
        return Finding(Status.OK, what)
    detail = "; ".join(_describe(doc, wrong))
    if check:
        return Finding(Status.MISSING, what, detail)
    step(f"updating {what}", lambda: client.update("Custom Field", spec.name, wrong))
    return Finding(Status.UPDATED, what, detail)


# -- the terminal registry --------------------------------------------------------------------
def _terminal_doctype(client: ERPNextClient, check: bool) -> Finding:
    what = f"DocType {TERMINAL_DOCTYPE}"
    doc = step(f"reading {what}", lambda: client.get_doc("DocType", TERMINAL_DOCTYPE))
    if doc is None:
        if check:
            return Finding(Status.MISSING, what, "not created")
        step(f"creating {what}", lambda: client.insert("DocType", terminal_doctype_body()))
        return Finding(Status.CREATED, what)
    changes, details = _doctype_changes(doc)
    if not changes:
        return Finding(Status.OK, what)
    detail = "; ".join(details)
    if check:
        return Finding(Status.MISSING, what, detail)
    step(f"updating {what}", lambda: client.update("DocType", TERMINAL_DOCTYPE, changes))
    return Finding(Status.UPDATED, what, detail)


def _doctype_changes(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The PUT body that brings ``doc`` to the schema, and what it fixes, in words."""
    changes = _differences(doc, TERMINAL_DOCTYPE_PROPS)
    details = _describe(doc, changes)
    for table, rows, fixed in (
        ("fields", *_merge_rows(doc.get("fields") or [], _FIELD_ROWS, TERMINAL_FIELDS)),
        (
            "permissions",
            *_merge_rows(doc.get("permissions") or [], _PERM_ROWS, TERMINAL_PERMISSIONS),
        ),
    ):
        if fixed:
            changes[table] = rows
            details += fixed
    return changes, details


@dataclass(frozen=True)
class _Rows:
    key: str  # what identifies a row
    word: str  # how a row is named in a finding
    checked: Callable[[str, Any], bool]  # which of a spec row's settings must hold


# Labels and list-view flags are cosmetic; a permission row's rights are checked where granted.
_FIELD_ROWS = _Rows("fieldname", "field", lambda k, v: k in FIELD_PROPS)
_PERM_ROWS = _Rows("role", "permission for", lambda k, v: k in ALL_RIGHTS and v == 1)


def _merge_rows(
    current: list[dict[str, Any]], kind: _Rows, specs: tuple[dict[str, Any], ...]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Existing rows kept (names and extra settings too), corrected or appended per spec row."""
    rows = [dict(r) for r in current]
    fixed: list[str] = []
    for spec in specs:
        ident = spec[kind.key]
        row = next((r for r in rows if r.get(kind.key) == ident and not r.get("permlevel")), None)
        if row is None:
            rows.append(dict(spec))
            fixed.append(f"{kind.word} {ident} missing")
            continue
        wrong = _differences(row, {k: v for k, v in spec.items() if kind.checked(k, v)})
        if wrong:
            fixed += _describe(row, wrong, f"{kind.word} {ident}: ")
            row.update(wrong)
    return rows, fixed


# -- the integration user ---------------------------------------------------------------------
def _roles(client: ERPNextClient, user: str) -> list[Finding]:
    if user == ADMINISTRATOR:
        return [Finding(Status.OK, f"roles of {user}", "Administrator may do everything")]
    doc = step(f"reading User {user}", lambda: client.get_doc("User", user)) or {}
    held = {str(r.get("role")) for r in doc.get("roles") or []}
    out = []
    for need in ROLE_NEEDS:
        what = f"role for {user} to {need.what}"
        has = sorted(held.intersection(need.roles))
        if has:
            out.append(Finding(Status.OK, what, has[0]))
        else:
            out.append(Finding(Status.MISSING, what, "give it one of: " + ", ".join(need.roles)))
    return out


def _reads(agent: ERPNextClient, *, registry: bool) -> list[Finding]:
    """One harmless read of every doctype the agent reads: a 403 here stops a pull later."""
    doctypes = [*PULLED_DOCTYPES, *SYNCED_DOCTYPES, *([TERMINAL_DOCTYPE] if registry else [])]
    denied = []
    for doctype in dict.fromkeys(doctypes):
        try:
            if doctype in SINGLES:
                agent.get_doc(doctype, doctype)
            else:
                agent.get_list(doctype, limit_page_length=1)
        except ERPNextError as exc:
            if exc.status not in (403, 404):
                raise SetupError(f"reading {doctype} as the integration user", exc) from None
            roles = READ_ROLES.get(doctype)
            hint = f" (give it one of: {', '.join((APPLIANCE_ROLE, *roles))})" if roles else ""
            denied.append(Finding(Status.MISSING, f"read access to {doctype}", f"{exc}{hint}"))
    if denied:
        return denied
    return [Finding(Status.OK, "read access", f"{len(dict.fromkeys(doctypes))} doctypes")]


# -- tills sharing what ERPNext 16 lets only one open shift use --------------------------------
SHARING_FIX = {
    "pos_profile": "give each till its own POS Profile",
    "erpnext_user": "give each till its own ERPNext user and API key",
}
_WHAT = {"pos_profile": "POS Profile", "erpnext_user": "ERPNext user"}


def _sharing(
    agent: ERPNextClient, user: str, terminal: str | None, pos_profile: str | None
) -> list[Finding]:
    """ERPNext 16 keeps one open shift per POS Profile and one per user, so two tills sharing
    either stop each other's shifts (docs/operations.md "Several tills in a branch"). Reported
    from the terminal registry (with this till's own profile and user), and from the shifts open
    in ERPNext now. Nothing is reported when nothing is shared; on 15 sharing is noted, as it
    breaks on the upgrade."""
    v16 = step("asking ERPNext its version", lambda: server_mode.detect(agent)).v16
    rows = step(
        f"reading {TERMINAL_DOCTYPE}",
        lambda: agent.get_list(
            TERMINAL_DOCTYPE,
            fields=["terminal_id", "enabled", *SHARING_FIX],
            limit_page_length=0,
        ),
    )
    tills = {str(r["terminal_id"]): dict(r) for r in rows if int(r.get("enabled") or 0)}
    if terminal:
        mine = tills.setdefault(terminal, {})
        mine["pos_profile"] = mine.get("pos_profile") or pos_profile
        mine["erpnext_user"] = user  # its API key's user is what it opens shifts as
    out = []
    for field_name, fix in SHARING_FIX.items():
        by_value: dict[str, list[str]] = {}
        for till, row in sorted(tills.items()):
            if row.get(field_name):
                by_value.setdefault(str(row[field_name]), []).append(till)
        for value, sharing in sorted(by_value.items()):
            if len(sharing) < 2:
                continue
            what = f"{_WHAT[field_name]} {value}"
            detail = f"shared by terminals {', '.join(sharing)}"
            if v16:
                out.append(
                    Finding(
                        Status.MISSING,
                        what,
                        f"{detail}: ERPNext 16 opens one shift per {_WHAT[field_name]}; {fix}",
                    )
                )
            else:
                out.append(
                    Finding(
                        Status.OK,
                        what,
                        f"{detail} (ERPNext 15 allows it; 16 "
                        f"refuses the second shift: {fix} before upgrading)",
                    )
                )
    if v16 and pos_profile:
        out += _open_elsewhere(agent, user, pos_profile)
    return out


def _open_elsewhere(agent: ERPNextClient, user: str, pos_profile: str) -> list[Finding]:
    """Shifts open in ERPNext now that this till's next opening would be refused for."""
    rows = step(
        "reading the open POS Opening Entries",
        lambda: agent.get_list(
            OPENING_DOCTYPE,
            fields=["name", "pos_profile", "user"],
            filters=[["status", "=", "Open"], ["docstatus", "=", 1]],
            limit_page_length=0,
        ),
    )
    out = []
    for row in rows:
        name, profile, owner = row.get("name"), row.get("pos_profile"), row.get("user")
        if profile == pos_profile and owner != user:
            out.append(
                Finding(
                    Status.MISSING,
                    f"POS Profile {pos_profile}",
                    f"has a shift open "
                    f"by user {owner} ({name}): another till uses this profile; "
                    f"{SHARING_FIX['pos_profile']}",
                )
            )
        elif owner == user and profile != pos_profile:
            out.append(
                Finding(
                    Status.MISSING,
                    f"ERPNext user {user}",
                    f"has a shift open on POS "
                    f"Profile {profile} ({name}): another till uses this user; "
                    f"{SHARING_FIX['erpnext_user']}",
                )
            )
    return out


__all__ = [
    "ADMINISTRATOR",
    "Finding",
    "SetupError",
    "SetupReport",
    "Status",
    "explain",
    "run_setup",
]

"""``appliance provision --check [--online]``: more than the file's shape, before it goes on a
stick. Each SSH key is read by OpenSSH's own ``ssh-keygen`` (where installed); with ``--online``
ERPNext is asked, with the file's own URL and credentials, whose key it is and whether the POS
Profile exists, and whether IT registered the terminal (a note: the fleet view and the
inventory need it, selling does not). Nothing is written anywhere; no secret is printed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.schema import TERMINAL_DOCTYPE
from appliance.provision import Plan
from appliance.ssh_keys import ssh_keygen_verdict

ONLINE_TIMEOUT = 10.0


@dataclass
class CheckReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ok(self, line: str) -> None:
        self.lines.append(line)

    def bad(self, line: str) -> None:
        self.lines.append(line)
        self.problems.append(line)


def deep_check(plan: Plan, *, online: bool, timeout: float = ONLINE_TIMEOUT) -> CheckReport:
    report = CheckReport()
    for n, (line, print_) in enumerate(zip(plan.authorized_keys, plan.fingerprints, strict=True)):
        whole, said = ssh_keygen_verdict(line)
        (report.ok if whole else report.bad)(f"[ssh] authorized_keys[{n}] ({print_}): {said}")
    if online:
        _online(plan, report, timeout)
    return report


def _online(plan: Plan, report: CheckReport, timeout: float) -> None:
    erpnext = tomllib.loads(plan.config_text)["erpnext"]
    url, key, profile = str(erpnext["url"]), str(erpnext["api_key"]), str(erpnext["pos_profile"])
    client = ERPNextClient(
        url,
        key,
        plan.api_secret,
        timeout=timeout,
        verify_tls=bool(erpnext.get("verify_tls", True)),
        ca_file=erpnext.get("ca_file"),
    )
    try:
        try:
            user = client.logged_user()
        except ERPNextError as exc:
            if exc.status in (401, 403):
                report.bad(
                    f"ERPNext refused the key {key} and its secret (HTTP {exc.status}): check "
                    "[erpnext] api_key and api_secret (User > API Access in ERPNext)"
                )
            else:
                report.bad(f"cannot reach ERPNext at {url}: {exc}")
            return
        report.ok(f"ERPNext {url}: key {key} is {user}")
        _exists(client, report, "POS Profile", profile, required=True)
        _exists(client, report, TERMINAL_DOCTYPE, plan.terminal_id, required=False)
    finally:
        client.close()


def _exists(
    client: ERPNextClient, report: CheckReport, doctype: str, name: str, *, required: bool
) -> None:
    try:
        doc = client.get_doc(doctype, name)
    except ERPNextError as exc:
        say = report.bad if required else report.ok
        say(f"{doctype} {name}: cannot read it as this key's user: {exc}")
        return
    if doc is not None:
        report.ok(f"{doctype} {name}: found")
    elif required:
        report.bad(f"{doctype} {name}: ERPNext has none (a typo? [erpnext] pos_profile)")
    else:
        report.ok(
            f"note: {doctype} {name}: not in ERPNext yet (IT registers it for the inventory "
            "and the fleet view; the till sells without it)"
        )

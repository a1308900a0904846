"""Ansible inventory of POS appliance terminals, read from ERPNext's "POS Appliance Terminal".

Hosts are named by terminal id; disabled terminals are left out. Groups: ``terminals`` (all),
``branch_<slug>`` and ``ring_<ring>`` (canary, early, stable), plus any ``groups``,
``keyed_groups`` and ``compose`` (ansible's constructed options). A record the appliance would
refuse (an id with ``-`` or over 16 characters, device settings that are not JSON or that the
appliance's own config check refuses, an inactivity lock out of range), or one whose hostname
is no DNS name or IP address or whose ssh_port is no port (both go to ssh), is left out with a
warning that names it and why (``on_refused: fail`` makes it an error instead). The API key and
secret never appear in host variables, in errors or in Ansible's output.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from ansible.errors import AnsibleParserError
from ansible.module_utils.urls import open_url
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.utils.display import Display

DOCUMENTATION = r"""
name: erpnext_terminals
short_description: POS appliance terminals recorded in ERPNext
description:
  - Reads the C(POS Appliance Terminal) records over ERPNext's REST API (token auth) and makes
    one host per enabled terminal, grouped by branch (C(branch_<slug>)) and ring (C(ring_<ring>)).
  - The inventory file must be named C(*erpnext_terminals.yml) or C(*erpnext_terminals.yaml).
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: Must be C(erpnext_terminals).
    required: true
    choices: [erpnext_terminals]
  url:
    description: ERPNext's base URL (leave it out of the file to take it from ERPNEXT_URL).
    required: true
    env: [{name: ERPNEXT_URL}]
  on_refused:
    description:
      - What to do with a record the appliance would refuse. C(warn) leaves it out with a
        warning naming it and why; C(fail) stops the inventory.
    type: str
    choices: [warn, fail]
    default: warn
  api_key:
    description: API key of an ERPNext user allowed to read POS Appliance Terminal.
    env: [{name: ERPNEXT_API_KEY}]
  api_secret:
    description: Its API secret (prefer the environment or api_secret_file).
    env: [{name: ERPNEXT_API_SECRET}]
  api_secret_file:
    description: A file holding the API secret (read when api_secret is not given).
    env: [{name: ERPNEXT_API_SECRET_FILE}]
  terminal_id:
    description: Only this terminal (ansible-pull on a terminal inventories itself).
    env: [{name: APPLIANCE_TERMINAL_ID}]
  local:
    description: Manage the hosts with connection=local (ansible-pull on the terminal itself).
    type: bool
    default: false
  validate_certs:
    description: Verify ERPNext's TLS certificate.
    type: bool
    default: true
  timeout:
    description: Seconds per HTTP request.
    type: int
    default: 15
"""

DOCTYPE = "POS Appliance Terminal"
FIELDS = (
    "name",
    "terminal_id",
    "enabled",
    "hostname",
    "ssh_port",
    "branch",
    "pos_profile",
    "ring",
    "target_release",
    "device_settings",
    "inactivity_lock_seconds",
)
PAGE = 500
RINGS = ("canary", "early", "stable")
# appliance/config.py TERMINAL_ID: what a till accepts as its id (and its hostname's source).
TERMINAL_ID = re.compile(r"\A[A-Za-z0-9_]{1,16}\Z")
LOCK_RANGE = (10, 3600)  # [terminal] inactivity_lock_seconds, as the appliance checks it
# ansible_host goes to ssh on IT's machine: a DNS name (RFC 1123 labels, none starting with "-",
# so never an ssh option such as -oProxyCommand=...) or an IP address, nothing else.
DNS_LABEL = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")

display = Display()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "none"


class RefusedError(ValueError):
    """A record the appliance would refuse: the reason, without the record's secrets (none)."""


class InventoryModule(BaseInventoryPlugin, Constructable):  # type: ignore[misc]
    NAME = "erpnext_terminals"

    def verify_file(self, path: str) -> bool:
        return bool(super().verify_file(path)) and path.endswith(
            ("erpnext_terminals.yml", "erpnext_terminals.yaml")
        )

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        self.inventory.add_group("terminals")
        for group in RINGS:
            self.inventory.add_group(f"ring_{group}")
        refused = []
        for record in self._records():
            try:
                self._add(record)
            except RefusedError as exc:
                refused.append(str(exc))
        if refused and self.get_option("on_refused") == "fail":
            raise AnsibleParserError(
                f"erpnext_terminals: {len(refused)} record(s) refused: " + "; ".join(refused)
            )
        for reason in refused:
            display.warning(f"erpnext_terminals: {reason}")

    # -- ERPNext -----------------------------------------------------------------------------
    def _secret(self) -> str:
        secret = self.get_option("api_secret")
        if secret:
            return str(secret)
        secret_file = self.get_option("api_secret_file")
        if secret_file:
            try:
                return Path(secret_file).expanduser().read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise AnsibleParserError(f"api_secret_file {secret_file}: {exc.strerror}") from None
        raise AnsibleParserError("erpnext_terminals: no api_secret or api_secret_file given")

    def _records(self) -> list[dict[str, Any]]:
        base = str(self.get_option("url")).rstrip("/")
        key = self.get_option("api_key")
        if not key:
            raise AnsibleParserError("erpnext_terminals: no api_key given (or ERPNEXT_API_KEY)")
        headers = {"Authorization": f"token {key}:{self._secret()}", "Accept": "application/json"}
        filters: list[list[Any]] = [["enabled", "=", 1]]
        only = self.get_option("terminal_id")
        if only:
            filters.append(["terminal_id", "=", only])
        records: list[dict[str, Any]] = []
        while True:
            query = urlencode(
                {
                    "fields": json.dumps(FIELDS),
                    "filters": json.dumps(filters),
                    "order_by": "name asc",
                    "limit_start": len(records),
                    "limit_page_length": PAGE,
                }
            )
            page = self._get(f"{base}/api/resource/{quote(DOCTYPE)}?{query}", headers)
            records.extend(page)
            if len(page) < PAGE:
                return records

    def _get(self, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        try:
            response = open_url(
                url,
                headers=headers,
                validate_certs=self.get_option("validate_certs"),
                timeout=self.get_option("timeout"),
                follow_redirects="none",
            )
            body = json.loads(response.read())
        except Exception as exc:
            # Only the URL and the error: the request's headers hold the secret.
            status = getattr(exc, "code", None)
            reason = f"HTTP {status}" if status else type(exc).__name__
            if status in (401, 403):
                reason += (
                    ": ERPNext refused the API key or secret (check ERPNEXT_API_KEY and"
                    " api_secret_file or ERPNEXT_API_SECRET, and that the user may read"
                    f" {DOCTYPE})"
                )
            elif not status:
                reason += ": ERPNext cannot be reached at this url"
            raise AnsibleParserError(
                f"erpnext_terminals: GET {url.split('?', maxsplit=1)[0]}: {reason}"
            ) from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise AnsibleParserError("erpnext_terminals: ERPNext answered without a data list")
        return data

    # -- hosts -------------------------------------------------------------------------------
    def _add(self, record: dict[str, Any]) -> None:
        terminal = str(record.get("terminal_id") or record.get("name") or "")
        if not record.get("enabled"):
            return
        if not TERMINAL_ID.match(terminal):
            raise RefusedError(
                f"{terminal!r} left out: a terminal id is 1-16 letters, digits or _ "
                "(no '-' or spaces), as the till checks it"
            )
        try:
            devices = _devices(record.get("device_settings"))
        except ValueError as exc:
            raise RefusedError(f"{terminal} left out: device_settings {exc}") from None
        lock = _int(record.get("inactivity_lock_seconds"), 120)
        if not LOCK_RANGE[0] <= lock <= LOCK_RANGE[1]:
            raise RefusedError(
                f"{terminal} left out: inactivity_lock_seconds {lock} is not between "
                f"{LOCK_RANGE[0]} and {LOCK_RANGE[1]}"
            )
        problem = _appliance_refuses(terminal, devices, lock)
        if problem:
            raise RefusedError(f"{terminal} left out: {problem}")
        address = str(record.get("hostname") or terminal)
        if not _is_address(address):
            raise RefusedError(
                f"{terminal} left out: hostname {address!r} is not a DNS name or an IP address"
            )
        port = _int(record.get("ssh_port"), 22)
        if not 1 <= port <= 65535:
            raise RefusedError(
                f"{terminal} left out: ssh_port {record.get('ssh_port')!r} is not a port (1-65535)"
            )
        host = self.inventory.add_host(terminal, group="terminals")
        ring = str(record.get("ring") or "stable")
        self.inventory.add_group(f"ring_{slug(ring)}")
        self.inventory.add_child(f"ring_{slug(ring)}", host)
        if record.get("branch"):
            group = f"branch_{slug(str(record['branch']))}"
            self.inventory.add_group(group)
            self.inventory.add_child(group, host)
        variables = {
            "ansible_host": address,
            "ansible_port": port,
            "appliance_terminal_id": terminal,
            "appliance_branch": record.get("branch") or "",
            "appliance_ring": ring,
            "appliance_pos_profile": record.get("pos_profile") or "",
            "appliance_release": record.get("target_release") or "",
            "appliance_devices": devices,
            "appliance_inactivity_lock_seconds": lock,
        }
        if self.get_option("local"):
            variables["ansible_connection"] = "local"
        for name, value in variables.items():
            self.inventory.set_variable(host, name, value)
        # ansible's constructed options, over the variables above (and the record's fields).
        strict = self.get_option("strict")
        hostvars = {**{f"erpnext_{k}": v for k, v in record.items()}, **variables}
        self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
        hostvars = {**hostvars, **self.inventory.get_host(host).get_vars()}
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
        self._add_host_to_keyed_groups(
            self.get_option("keyed_groups"), hostvars, host, strict=strict
        )


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return -1  # out of range: refused with its reason


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        labels = text.removesuffix(".").split(".")
        return len(text) <= 253 and all(DNS_LABEL.match(label) for label in labels)
    return True


def _appliance_refuses(terminal: str, devices: dict[str, Any], lock: int) -> str | None:
    """The appliance's own config check, where it is installed beside Ansible (IT's venv)."""
    try:
        from appliance.config import ConfigError, parse_config  # noqa: PLC0415
    except ImportError:
        return None
    data = {
        "terminal": {"id": terminal, "pos_profile": "-", "inactivity_lock_seconds": lock},
        "devices": devices,
    }
    try:
        parse_config(data, "device_settings")
    except ConfigError as exc:
        return str(exc)
    return None


def _devices(raw: Any) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"is not JSON: {exc}") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        raise ValueError("must be a JSON object of [devices.NAME] tables")
    return parsed

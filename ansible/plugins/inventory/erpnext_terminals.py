"""Ansible inventory of POS appliance terminals, read from ERPNext's "POS Appliance Terminal".

Hosts are named by terminal id; disabled terminals are left out. Groups: ``terminals`` (all),
``branch_<slug>`` and ``ring_<ring>`` (canary, early, stable). The API key and secret never
appear in host variables, in errors or in Ansible's output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from ansible.errors import AnsibleParserError
from ansible.module_utils.urls import open_url
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.display import Display

DOCUMENTATION = r"""
name: erpnext_terminals
short_description: POS appliance terminals recorded in ERPNext
description:
  - Reads the C(POS Appliance Terminal) records over ERPNext's REST API (token auth) and makes
    one host per enabled terminal, grouped by branch (C(branch_<slug>)) and ring (C(ring_<ring>)).
  - The inventory file must be named C(*erpnext_terminals.yml) or C(*erpnext_terminals.yaml).
options:
  plugin:
    description: Must be C(erpnext_terminals).
    required: true
    choices: [erpnext_terminals]
  url:
    description: ERPNext's base URL.
    required: true
    env: [{name: ERPNEXT_URL}]
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

display = Display()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "none"


class InventoryModule(BaseInventoryPlugin):  # type: ignore[misc]
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
        for record in self._records():
            self._add(record)

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
        if not terminal or not record.get("enabled"):
            return
        try:
            devices = _devices(record.get("device_settings"))
        except ValueError as exc:
            display.warning(f"erpnext_terminals: {terminal} left out: device_settings {exc}")
            return
        host = self.inventory.add_host(terminal, group="terminals")
        ring = str(record.get("ring") or "stable")
        self.inventory.add_group(f"ring_{slug(ring)}")
        self.inventory.add_child(f"ring_{slug(ring)}", host)
        if record.get("branch"):
            group = f"branch_{slug(str(record['branch']))}"
            self.inventory.add_group(group)
            self.inventory.add_child(group, host)
        variables = {
            "ansible_host": record.get("hostname") or terminal,
            "ansible_port": int(record.get("ssh_port") or 22),
            "appliance_terminal_id": terminal,
            "appliance_branch": record.get("branch") or "",
            "appliance_ring": ring,
            "appliance_pos_profile": record.get("pos_profile") or "",
            "appliance_release": record.get("target_release") or "",
            "appliance_devices": devices,
            "appliance_inactivity_lock_seconds": int(record.get("inactivity_lock_seconds") or 120),
        }
        if self.get_option("local"):
            variables["ansible_connection"] = "local"
        for name, value in variables.items():
            self.inventory.set_variable(host, name, value)


def _devices(raw: Any) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object of [devices.NAME] tables")
    return parsed

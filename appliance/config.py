"""The appliance's TOML configuration, validated up front.

A wrong or missing key stops the program with the key, the problem and the file: a till must
never run on a silently defaulted setting. Unknown keys are errors too (a typo is not a default).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from appliance import config_error, paths
from appliance.drivers.config import DevicesConfig, parse_devices
from appliance.sales.barcode import EmbeddedLayout, ScanConfig
from appliance.untrusted import read_file, reason, shown

# \A..\Z, not ^..$: "$" also matches before a final newline. The USB importer checks a bundle's
# terminal with this same pattern before that name picks a key file.
TERMINAL_ID = re.compile(r"\A[A-Za-z0-9_]{1,16}\Z")
CONFIG_SIZE_LIMIT = 1 << 20  # a real config is a few hundred bytes

# Defined apart (no import cycle with drivers.config); callers catch it here.
ConfigError = config_error.ConfigError


@dataclass(frozen=True)
class TerminalConfig:
    id: str
    inactivity_lock_seconds: int = 120
    pos_profile: str = ""  # for a till with no ERPNext link (the demo); else [erpnext] names it
    # Modes of Payment that spend a customer's store credit (gift cards): the till keeps their
    # balance per customer from their payment rows in ERPNext (docs/agent.md, "Store credit").
    store_credit_modes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ERPNextConfig:
    url: str
    api_key: str
    api_secret_file: Path
    pos_profile: str
    verify_tls: bool = True
    ca_file: Path | None = None
    timeout: float = 15.0  # per connect and per read
    deadline: float = 120.0  # per request, whole exchange (a server dripping bytes is cut)
    max_answer_mb: int = 64  # an answer past this is refused, not read into memory


@dataclass(frozen=True)
class TransferConfig:
    """USB bundles (docs/agent.md, "USB transfer")."""

    key_file: Path | None = None  # this terminal's transfer key: signs its bundles
    keys_dir: Path | None = None  # where bundles are imported: one <terminal id>.key each


@dataclass(frozen=True)
class Config:
    source: Path | None
    terminal: TerminalConfig
    erpnext: ERPNextConfig | None = None
    scan: ScanConfig = field(default_factory=ScanConfig)
    devices: DevicesConfig = field(default_factory=DevicesConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)

    @property
    def pos_profile(self) -> str:
        return self.erpnext.pos_profile if self.erpnext else self.terminal.pos_profile


class _Reader:
    """Reads one table, remembering which keys were used so leftovers can be reported."""

    def __init__(self, where: str, table: object, source: str) -> None:
        self.where = where
        self.source = source
        if not isinstance(table, dict):
            raise self.error("", "must be a table")
        self.table: dict[str, Any] = table
        self.used: set[str] = set()

    def error(self, key: str, problem: str) -> ConfigError:
        # Every top-level key is a table, so it is named the way the file spells it.
        name = f"[{self.where}] {key}".rstrip() if self.where else f"[{key}]"
        return ConfigError(f"{self.source}: {name}: {problem}")

    def get(self, key: str, kind: type, default: Any = ..., *, required: bool = False) -> Any:
        self.used.add(key)
        if key not in self.table:
            if required or default is ...:
                raise self.error(key, "is required")
            return default
        value = self.table[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.error(key, f"must be {_kind_name(kind)}, got {shown(value)}")
        return value

    def finish(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise self.error(extra[0], "is not a known setting (typo?)")


def _kind_name(kind: type) -> str:
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}.get(
        kind, kind.__name__
    )


def _terminal(r: _Reader) -> TerminalConfig:
    tid = r.get("id", str, required=True)
    if not TERMINAL_ID.match(tid):
        raise r.error("id", "must be 1-16 letters, digits or _ (it prefixes receipt numbers)")
    lock = r.get("inactivity_lock_seconds", int, 120)
    if not 10 <= lock <= 3600:
        raise r.error("inactivity_lock_seconds", "must be between 10 and 3600")
    profile = r.get("pos_profile", str, "")
    credit = r.get("store_credit_modes", list, [])
    if not all(isinstance(m, str) and m.strip() for m in credit):
        raise r.error("store_credit_modes", "must be a list of Mode of Payment names")
    r.finish()
    return TerminalConfig(
        id=tid,
        inactivity_lock_seconds=lock,
        pos_profile=profile,
        store_credit_modes=tuple(m.strip() for m in credit),
    )


def _erpnext(r: _Reader) -> ERPNextConfig:
    url = r.get("url", str, required=True)
    try:
        parsed = urlparse(url)
    except ValueError:  # e.g. "https://[erp.example.com]/": brackets that hold no IPv6 address
        parsed = urlparse("")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise r.error("url", f"must be an http(s) URL, got {shown(url)}")
    if "api_secret" in r.table:
        raise r.error("api_secret", "secrets do not go in this file: use api_secret_file")
    timeout = r.get("timeout", float, 15.0)
    if not 1 <= timeout <= 300:
        raise r.error("timeout", "must be between 1 and 300 seconds")
    deadline = r.get("deadline", float, 120.0)
    if not timeout <= deadline <= 3600:
        raise r.error("deadline", "must be between timeout and 3600 seconds")
    max_answer = r.get("max_answer_mb", int, 64)
    if not 4 <= max_answer <= 1024:
        raise r.error("max_answer_mb", "must be between 4 and 1024")
    ca = r.get("ca_file", str, "")
    cfg = ERPNextConfig(
        url=url.rstrip("/"),
        api_key=r.get("api_key", str, required=True),
        api_secret_file=Path(r.get("api_secret_file", str, required=True)),
        pos_profile=r.get("pos_profile", str, required=True),
        verify_tls=r.get("verify_tls", bool, True),
        ca_file=Path(ca) if ca else None,
        timeout=timeout,
        deadline=deadline,
        max_answer_mb=max_answer,
    )
    r.finish()
    return cfg


def _scan(r: _Reader) -> ScanConfig:
    patterns = r.get("embedded_layouts", list, [])
    layouts = []
    for n, pattern in enumerate(patterns):
        if not isinstance(pattern, str):
            raise r.error(f"embedded_layouts[{n}]", "must be a pattern such as '20IIIIIWWWWWC'")
        try:
            layouts.append(EmbeddedLayout.from_pattern(pattern))
        except ValueError as exc:
            raise r.error(f"embedded_layouts[{n}]", str(exc)) from None
    weight_uoms = r.get("weight_uoms", list, ["Kg", "kg", "Kilogram"])
    r.finish()
    try:
        return ScanConfig(layouts=tuple(layouts), weight_uoms=tuple(str(u) for u in weight_uoms))
    except ValueError as exc:
        raise r.error("embedded_layouts", str(exc)) from None


def _transfer(r: _Reader) -> TransferConfig:
    key_file = r.get("key_file", str, "")
    keys_dir = r.get("keys_dir", str, "")
    r.finish()
    return TransferConfig(
        key_file=Path(key_file) if key_file else None,
        keys_dir=Path(keys_dir) if keys_dir else None,
    )


def parse_config(data: Mapping[str, Any], source: str) -> Config:
    top = _Reader("", dict(data), source)
    terminal = _terminal(_Reader("terminal", top.get("terminal", dict, required=True), source))
    erp_table = top.get("erpnext", dict, None)
    erpnext = _erpnext(_Reader("erpnext", erp_table, source)) if erp_table is not None else None
    scan_table = top.get("scan", dict, None)
    scan = _scan(_Reader("scan", scan_table, source)) if scan_table is not None else ScanConfig()
    devices_table = top.get("devices", dict, {})
    transfer_table = top.get("transfer", dict, None)
    transfer = (
        _transfer(_Reader("transfer", transfer_table, source))
        if transfer_table is not None
        else TransferConfig()
    )
    top.finish()
    devices = parse_devices(devices_table, source)
    if erpnext is None and not terminal.pos_profile:
        raise ConfigError(
            f"{source}: [terminal] pos_profile: is required when there is no [erpnext] section"
        )
    return Config(
        source=Path(source),
        terminal=terminal,
        erpnext=erpnext,
        scan=scan,
        devices=devices,
        transfer=transfer,
    )


def load_config(path: Path | None = None) -> Config:
    """Every command reads its config here: whatever is at ``path`` (a directory, a FIFO, a
    binary file, TOML nested past the parser's depth) ends as one :class:`ConfigError`."""
    path = path or paths.config_file()
    try:
        data = tomllib.loads(read_file(path, CONFIG_SIZE_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found (set APPLIANCE_CONFIG or provision the terminal)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {reason(exc)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}): not a config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except ValueError as exc:  # an integer too long for int (4300 digits), a date that is none
        raise ConfigError(f"{path}: not valid TOML: {str(exc)[:100]}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    return parse_config(data, str(path))

"""First-boot provisioning: ``provision.toml`` (from a FAT partition or USB stick) to a till.

The file is a superset of ``appliance.toml``: the same ``[terminal]``, ``[erpnext]``, ``[scan]``
and ``[devices]`` tables, except that ``[erpnext] api_secret`` carries the secret itself (it goes
to ``/etc/appliance/erpnext.secret``, root 0600, never into appliance.toml), plus::

    [provision]
    id = "T01-2026-11"        # names this provisioning (default: the terminal id)
    reprovision = false       # true: apply to an already provisioned till if the id is new
    signing_key = "ssh-ed25519 AAAA..."   # optional: the key this till trusts from now on

    [terminal]
    branch = "Main Street"    # recorded in /etc/appliance/provision.json (not a till setting)

    [ssh]
    authorized_keys = ["ssh-ed25519 AAAA... it@example"]   # root's, replaced (key only)

    [transfer]
    key = "..."               # optional: this till's transfer key, to /etc/appliance/transfer.key
                              # (root 0600: only root's `appliance export` reads it);
                              # appliance.toml gets [transfer] key_file

The result is validated by the appliance's own config loader before anything is written, so an
error names the key (``provision.toml: [erpnext] url: must be an http(s) URL``). After applying,
the secrets are removed from the file (it may be on a stick that gets copied). Nothing here ever
prints a secret. ``/run/appliance-provision/status.json`` tells the till's "not provisioned"
screen what happened.

Authentication (provision_signing.py, docs/operations.md "Provisioning signing key"): a till
that has a provisioning signing key (``/etc/appliance/provision-signing.pub``: put there at
image build time, or pinned by the first file a fresh till applied) applies only files signed
by it (``provision.toml.sig``, ``ssh-keygen -Y sign -n appliance-provision``). A provisioned
till without one applies no file at all (Ansible over SSH is the way in). A fresh till with no
key trusts its first file (trust on first use): a signed first file pins its signer's key, or
the ``signing_key`` it names, which must then have signed it. Every applied id is remembered,
so a copy of an old signed file is refused.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import errno
import grp
import json
import os
import re
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.config import ConfigError, parse_config
from appliance.provision_signing import (
    SignatureError,
    blob_fingerprint,
    key_fingerprint,
    sig_path,
    signer,
    verify,
)
from appliance.provision_status import STATUS, shown
from appliance.secret_file import unfit_secret
from appliance.ssh_keys import SSHKeyError, check_blob
from appliance.untrusted import read_file, reason

PLACEHOLDER_ID = "UNPROVISIONED"
SECRET_NAME = "erpnext.secret"
KEY_TYPES = {
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
}
TOP_KEYS = {"provision", "terminal", "erpnext", "ssh", "transfer", "scan", "devices"}
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

MAX_FILE = 256 * 1024  # a provision.toml is a few KiB; anything bigger is not one

# Exit statuses of `appliance provision`. REFUSED: valid TOML, not applied (signature, replay).
APPLIED, INVALID, NOTHING_TO_DO, REFUSED = 0, 2, 3, 4


class ProvisionError(ValueError):
    """``<file>: [table] key: problem`` (never with a secret in it)."""


@dataclass(frozen=True)
class Targets:
    """Where provisioning writes: the real paths on a till, temporary ones in tests."""

    etc: Path = Path("/etc/appliance")
    ssh_keys: Path = Path("/root/.ssh/authorized_keys")
    status: Path = STATUS

    @property
    def config(self) -> Path:
        return self.etc / "appliance.toml"

    @property
    def hostname(self) -> Path:
        """``/etc/hostname`` beside ``/etc/appliance`` (under a test's root in tests)."""
        return self.etc.parent / "hostname"

    @property
    def secret(self) -> Path:
        return self.etc / SECRET_NAME

    @property
    def transfer_key(self) -> Path:
        return self.etc / "transfer.key"

    @property
    def record(self) -> Path:
        return self.etc / "provision.json"

    @property
    def signing_key(self) -> Path:
        """IT's provisioning public key (one OpenSSH line), root 0644: not a secret."""
        return self.etc / "provision-signing.pub"


@dataclass(frozen=True)
class Plan:
    """A validated provisioning file."""

    provision_id: str
    reprovision: bool
    terminal_id: str
    branch: str
    config_text: str
    api_secret: str
    authorized_keys: tuple[str, ...]
    fingerprints: tuple[str, ...]
    transfer_key: str | None = None
    signing_key: str | None = None
    notes: list[str] = field(default_factory=list)


def _err(source: str, where: str, problem: str) -> ProvisionError:
    return ProvisionError(f"{source}: {where}: {problem}")


def _table(data: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise _err(source, f"[{name}]", "must be a table")
    return dict(value)


def fingerprint(line: str, source: str, where: str) -> str:
    """SHA256 fingerprint (as ssh-keygen -l shows it) of one authorized_keys line, validated."""
    # A line break (or any control character) inside the entry would put a second, unchecked
    # and unlisted line into authorized_keys: one entry is one line.
    if any(not (ch.isprintable() or ch == "\t") for ch in line):
        raise _err(source, where, "must be one line of printable text (a line break inside?)")
    parts = line.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        if any(part in KEY_TYPES for part in parts[1:]):
            why = "options in front of the key (from=, command=, ...) are not taken: the key only"
            raise _err(source, where, f"{why} ('ssh-ed25519 AAAA... comment')")
        raise _err(source, where, "must be an SSH public key line ('ssh-ed25519 AAAA... comment')")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise _err(source, where, "the key's base64 part is damaged (cut short?)") from None
    try:
        check_blob(parts[0], blob)
    except SSHKeyError as exc:
        raise _err(source, where, f"the key {exc}") from None
    return blob_fingerprint(blob)


def parse_provision(data: Mapping[str, Any], source: str) -> Plan:
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise _err(source, f"[{unknown[0]}]", "unknown table (a typo?)")
    prov = _table(data, "provision", source)
    terminal = _table(data, "terminal", source)
    erpnext = _table(data, "erpnext", source)
    ssh = _table(data, "ssh", source)
    transfer = _table(data, "transfer", source)

    if "terminal" not in data:
        raise _err(source, "[terminal]", "is required")
    if "erpnext" not in data:
        raise _err(source, "[erpnext]", "is required (url, api_key, api_secret, pos_profile)")
    branch = terminal.pop("branch", "")
    if not isinstance(branch, str):
        raise _err(source, "[terminal] branch", "must be text")
    if "api_secret_file" in erpnext:
        raise _err(source, "[erpnext] api_secret_file", "give the secret itself as api_secret")
    secret = erpnext.pop("api_secret", None)
    if not isinstance(secret, str) or not secret.strip():
        problem = "is required" if secret is None else "must be non-empty text"
        raise _err(source, "[erpnext] api_secret", problem)
    unfit = unfit_secret(secret.strip())
    if unfit:
        # The agent would refuse it (secret_file): say so now, before the till is changed.
        raise _err(source, "[erpnext] api_secret", f"has {unfit}: one line, no spaces")
    erpnext["api_secret_file"] = str(Targets().secret)

    transfer_key = transfer.pop("key", None)
    if transfer_key is not None:
        if not isinstance(transfer_key, str) or not transfer_key.strip():
            raise _err(source, "[transfer] key", "must be non-empty text")
        if "key_file" in transfer:
            raise _err(source, "[transfer] key_file", "give either key or key_file, not both")
        transfer_key = transfer_key.strip()
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2}){32,}", transfer_key):
            raise _err(source, "[transfer] key", "must be at least 64 hex digits")
        transfer["key_file"] = str(Targets().transfer_key)

    config: dict[str, Any] = {"terminal": terminal, "erpnext": erpnext}
    for name in ("scan", "devices"):
        if name in data:
            config[name] = data[name]
    if transfer:
        config["transfer"] = transfer
    try:
        cfg = parse_config(config, source)
    except ConfigError as exc:
        raise ProvisionError(str(exc)) from None
    if cfg.terminal.id == PLACEHOLDER_ID:
        raise _err(source, "[terminal] id", f"{PLACEHOLDER_ID!r} is the image's placeholder")

    keys = ssh.pop("authorized_keys", [])
    if ssh:
        raise _err(source, f"[ssh] {sorted(ssh)[0]}", "unknown key (a typo?)")
    if not isinstance(keys, list):
        raise _err(source, "[ssh] authorized_keys", "must be a list of SSH public key lines")
    lines: list[str] = []
    prints: list[str] = []
    for n, key in enumerate(keys):
        where = f"[ssh] authorized_keys[{n}]"
        if not isinstance(key, str):
            raise _err(source, where, "must be text")
        prints.append(fingerprint(key.strip(), source, where))
        lines.append(key.strip())

    pid = prov.pop("id", cfg.terminal.id)
    reprovision = prov.pop("reprovision", False)
    signing_key = prov.pop("signing_key", None)
    if signing_key is not None:
        where = "[provision] signing_key"
        if not isinstance(signing_key, str):
            raise _err(source, where, "must be text")
        fingerprint(signing_key.strip(), source, where)
        signing_key = " ".join(signing_key.split()[:2])
    if prov:
        raise _err(source, f"[provision] {sorted(prov)[0]}", "unknown key (a typo?)")
    if not isinstance(pid, str) or not pid:
        raise _err(source, "[provision] id", "must be non-empty text")
    if not isinstance(reprovision, bool):
        raise _err(source, "[provision] reprovision", "must be true or false")

    notes = [] if lines else ["no [ssh] authorized_keys: nobody can log in over SSH"]
    config_text = (
        f"# Written by `appliance provision` from provision id {_string(pid)}.\n"
        "# The ERPNext API secret is in /etc/appliance/erpnext.secret (root 0600).\n"
    ) + to_toml(config)
    try:
        readable = tomllib.loads(config_text) == config
    except tomllib.TOMLDecodeError:
        readable = False
    if not readable:  # never write a config the till cannot read back
        raise _err(source, "[provision]", "cannot be written as appliance.toml")
    return Plan(
        provision_id=pid,
        reprovision=reprovision,
        terminal_id=cfg.terminal.id,
        branch=branch,
        config_text=config_text,
        api_secret=secret.strip(),
        authorized_keys=tuple(lines),
        fingerprints=tuple(prints),
        transfer_key=transfer_key,
        signing_key=signing_key,
        notes=notes,
    )


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _string(value: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML also forbids a raw DEL
    and JSON's ASCII mode would split characters beyond the BMP into surrogates TOML rejects."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(name: str) -> str:
    return name if BARE_KEY.match(name) else _string(name)


def to_toml(tables: Mapping[str, Any], prefix: str = "") -> str:
    """A small TOML writer for what appliance.toml holds: tables, scalars, lists of scalars."""
    out: list[str] = []
    scalars = {k: v for k, v in tables.items() if not isinstance(v, dict)}
    if scalars:
        if prefix:
            out.append(f"[{prefix}]")
        out += [f"{_key(k)} = {_scalar(v)}" for k, v in scalars.items()]
        out.append("")
    for name, sub in tables.items():
        if isinstance(sub, dict):
            path = f"{prefix}.{_key(name)}" if prefix else _key(name)
            if not sub:
                out += [f"[{path}]", ""]
            else:
                out.append(to_toml(sub, path))
    return "\n".join(out).rstrip("\n") + "\n"


def is_placeholder(config: Path) -> bool:
    """The image's placeholder config (or none at all): the till is not provisioned."""
    try:
        with config.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return True
    except (OSError, tomllib.TOMLDecodeError):
        return False
    terminal = data.get("terminal")
    return isinstance(terminal, dict) and terminal.get("id") == PLACEHOLDER_ID


def _write(path: Path, text: str, mode: int, group: str | None = None) -> None:
    """Atomically: a temporary file with the final mode and owner, fsync, rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        if os.geteuid() == 0:
            gid = 0
            if group:
                with contextlib.suppress(KeyError):
                    gid = grp.getgrnam(group).gr_gid
            os.fchown(fd, 0, gid)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def write_status(targets: Targets, state: str, reason: str, **extra: Any) -> None:
    """For the till's "not provisioned" screen (world-readable, never a secret)."""
    status = {"state": state, "reason": reason, "at": _now(), **extra}
    targets.status.parent.mkdir(parents=True, exist_ok=True)
    _write(targets.status, json.dumps(status, indent=1) + "\n", 0o644)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply(plan: Plan, targets: Targets, source: str, signing_key: str | None) -> None:
    """``signing_key``: the key this till trusts from now on (None: none, as before)."""
    history = applied_ids(targets)
    targets.etc.mkdir(parents=True, exist_ok=True)
    targets.ssh_keys.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The secret first: appliance.toml names it, and the agent starts only once it exists.
    _write(targets.secret, plan.api_secret + "\n", 0o600)
    if plan.transfer_key is not None:
        # Signs this till's USB bundles. Only `appliance export` reads it, run by root over SSH
        # or Ansible: root 0600, out of reach of the counter (pos) and the agent (pos-agent).
        _write(targets.transfer_key, plan.transfer_key + "\n", 0o600)
    keys_text = "".join(line + "\n" for line in plan.authorized_keys)
    _write(targets.ssh_keys, keys_text, 0o600)
    if signing_key is not None:
        _write(targets.signing_key, f"{signing_key} provisioning key, pinned {_now()}\n", 0o644)
    record = {
        "provision_id": plan.provision_id,
        "terminal_id": plan.terminal_id,
        "branch": plan.branch,
        "applied_at": _now(),
        "source": source,
        "authorized_keys": list(plan.fingerprints),
        "transfer_key": plan.transfer_key is not None,
        "signing_key": key_fingerprint(signing_key) if signing_key else None,
        # Every id this till applied: a copy of an old signed file is refused (replay).
        "applied_ids": [*history, plan.provision_id],
    }
    _write(targets.record, json.dumps(record, indent=1) + "\n", 0o640, "appliance")
    _write(targets.config, plan.config_text, 0o640, "appliance")
    # The journal, the DHCP lease, the bundle and IT's SSH prompt then name the till; the
    # provisioning service sets the running hostname from it.
    host = hostname_for(plan.terminal_id)
    _write(targets.hostname, host + "\n", 0o644)
    hosts = targets.hostname.with_name("hosts")
    if hosts.is_file():  # Debian's 127.0.1.1 line names the machine itself
        lines = [
            ln
            for ln in hosts.read_text(encoding="utf-8").splitlines()
            if ln.split()[:1] != ["127.0.1.1"]
        ]
        _write(hosts, "\n".join([*lines, f"127.0.1.1\t{host}"]) + "\n", 0o644)


def _record(targets: Targets) -> dict[str, Any]:
    try:
        value = json.loads(targets.record.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def recorded_id(targets: Targets) -> str | None:
    value = _record(targets).get("provision_id")
    return value if isinstance(value, str) else None


def applied_ids(targets: Targets) -> list[str]:
    """Every provision id this till applied (records from before the list: the last one)."""
    record = _record(targets)
    ids = record.get("applied_ids")
    if isinstance(ids, list) and all(isinstance(i, str) for i in ids):
        return list(ids)
    last = record.get("provision_id")
    return [last] if isinstance(last, str) else []


def trusted_key(targets: Targets) -> str | None:
    """The pinned provisioning key (``type base64``), or None if this till has none."""
    try:
        line = targets.signing_key.read_text(encoding="utf-8").strip()
        fingerprint(line, targets.signing_key.name, "line 1")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ProvisionError):
        # Never "no key, so trust the next file": a damaged pin refuses everything.
        raise SignatureError(
            f"{targets.signing_key} is damaged: re-image the till, or restore it over SSH"
        ) from None
    return " ".join(line.split()[:2])


def authenticate(raw: bytes, file: Path, plan: Plan, targets: Targets, fresh: bool) -> str | None:
    """Check ``file``'s signature as this till requires; the key to trust once it is applied.

    ``fresh``: the till is unprovisioned (trust on first use when it has no key yet).
    """
    trusted = trusted_key(targets)
    sig = sig_path(file)
    try:
        with sig.open("rb") as fh:
            signature: bytes | None = fh.read(MAX_FILE)
    except FileNotFoundError:
        signature = None
    except OSError as exc:
        raise SignatureError(f"{sig.name} cannot be read: {exc.strerror}") from None
    if trusted is None and not fresh:
        raise SignatureError(
            "this till has no provisioning signing key, so it applies no provisioning file "
            "(change it with Ansible over SSH, or re-image it)"
        )
    if signature is None:
        if trusted is not None:
            raise SignatureError(
                f"not signed (no {sig.name} next to it): this till applies only files signed "
                f"with its provisioning key {key_fingerprint(trusted)}"
            )
        if plan.signing_key is not None:
            raise SignatureError(
                f"not signed (no {sig.name} next to it), but it names a [provision] "
                "signing_key: sign it with that key"
            )
        return None  # an unsigned first file: trusted on first use, and no key pinned
    if trusted is not None:
        verify(raw, signature, trusted, "this till's provisioning key")
    elif plan.signing_key is not None:
        verify(raw, signature, plan.signing_key, "the [provision] signing_key it names")
    else:
        verify(raw, signature, signer(signature), "the key that signed it")
    return plan.signing_key or trusted or signer(signature)


def scrub(path: Path, plan: Plan) -> str:
    """Rewrite the provisioning file without its secrets; returns what was done.

    Line by line (the comments and layout IT wrote stay), then checked by parsing: if the result
    still holds a secret or lost anything else, the file is replaced by a note instead.
    """
    # Written back as UTF-8 whatever it was read as (a BOM or UTF-16 is no use to anyone).
    original = decode_text(path.read_bytes())
    before = tomllib.loads(original)
    table = ""
    removed = []
    lines = []
    stamp = f"removed by till {plan.terminal_id} ({socket.gethostname()}) at {_now()}"
    for line in original.splitlines():
        header = re.match(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
        if header:
            table = header.group(1)
        secret = bool(
            (table == "erpnext" and re.match(r"^\s*api_secret\s*=", line))
            or (table == "transfer" and re.match(r"^\s*key\s*=", line))
            or (table == "" and re.match(r"^\s*(erpnext\.api_secret|transfer\.key)\s*=", line))
        )
        if secret:
            name = "api_secret" if "api_secret" in line.split("=", 1)[0] else "transfer key"
            removed.append(name)
            lines.append(f"# {name}: {stamp}")
        else:
            lines.append(line)
    text = "\n".join(lines) + "\n"
    expected = {k: dict(v) if isinstance(v, dict) else v for k, v in before.items()}
    if isinstance(expected.get("erpnext"), dict):
        expected["erpnext"].pop("api_secret", None)
    if isinstance(expected.get("transfer"), dict):
        expected["transfer"].pop("key", None)
    try:
        ok = tomllib.loads(text) == expected
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        text = (
            f"# This provisioning file was applied to till {plan.terminal_id} at {_now()}.\n"
            "# Its secrets could not be removed line by line, so the whole file was replaced.\n"
        )
        removed = ["whole file"]
    tmp = path.with_name(path.name + ".new")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return ", ".join(removed) if removed else "nothing (no secrets left in the file)"


def load(file: Path) -> tuple[bytes, Plan]:
    """The file's bytes and what they say; ProvisionError (one line) if it is not a valid one.

    Read once: the bytes whose signature is checked are the bytes parsed (a stick can change).
    """
    try:
        # Regular files only (a FIFO would wait forever for a writer), at most MAX_FILE bytes.
        raw = read_file(file, MAX_FILE)
        return raw, parse_provision(tomllib.loads(decode_text(raw)), file.name)
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            limit = MAX_FILE // 1024
            raise ProvisionError(
                f"{file.name}: larger than {limit} KiB: not a provision.toml"
            ) from None
        raise ProvisionError(f"{file.name}: {reason(exc)}") from None
    except UnicodeDecodeError:
        raise ProvisionError(f"{file.name}: not UTF-8 (or UTF-16 with a BOM) text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProvisionError(f"{file.name}: not valid TOML: {exc}") from None


def decode_text(raw: bytes) -> str:
    """UTF-8, with or without the BOM Windows editors write, or UTF-16 with its BOM (Notepad's
    "Unicode"). The signature covers the bytes as they are; only the reading changes."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    return raw.decode("utf-8")


def hostname_for(terminal_id: str) -> str:
    """The till's hostname: its terminal id, lower case, ``_`` as ``-`` (no hostname character),
    without a ``-`` at either end (RFC 1123; a leading one reads as an option to ssh, ping and
    ``hostname`` itself); ``pos`` for an id of underscores only. Ids differing only in case or
    outer ``_`` share a hostname (the terminal id stays the till's identity everywhere else)."""
    return terminal_id.lower().replace("_", "-").strip("-") or "pos"


def provision(
    file: Path, targets: Targets, *, source: str = "", do_scrub: bool = False, check: bool = False
) -> tuple[int, list[str]]:
    """Validate and, if it applies to this till, apply ``file``. Returns (status, log lines)."""
    status, log = _provision(file, targets, source or str(file), do_scrub, check)
    return status, [shown(line) for line in log]


def _provision(
    file: Path, targets: Targets, source: str, do_scrub: bool, check: bool
) -> tuple[int, list[str]]:
    log: list[str] = []
    placeholder = is_placeholder(targets.config)
    try:
        raw, plan = load(file)
    except ProvisionError as exc:
        return _invalid(targets, placeholder, check, str(exc), log)
    log += [f"note: {n}" for n in plan.notes]
    if check:
        log.append(f"{file.name}: valid (terminal {plan.terminal_id}, id {plan.provision_id})")
        return APPLIED, log
    named = f"{file.name} (id {plan.provision_id})"
    previous = recorded_id(targets)
    if not placeholder:
        if plan.provision_id == previous:
            # Changes nothing, so its signature does not matter: a stick left in stays quiet.
            log.append(f"{named}: not applied: already applied")
            if do_scrub:
                log.append(f"{file.name}: secrets removed: {scrub(file, plan)}")
            return NOTHING_TO_DO, log
        if plan.provision_id in applied_ids(targets):
            why = "this id was applied before (a copy of an old file?): a new file needs a new id"
            return _refused(targets, f"{named} from {source}: {why}", log)
        if not plan.reprovision:
            why = (
                "this till is already provisioned (set [provision] reprovision = true and a "
                "new [provision] id, and sign it with IT's provisioning key, to apply it)"
            )
            log.append(f"{named}: not applied: {why}")
            return NOTHING_TO_DO, log
    try:
        pin = authenticate(raw, file, plan, targets, placeholder)
    except SignatureError as exc:
        reason = f"{named} from {source}: {exc}"
        if placeholder:
            return _invalid(targets, placeholder, check, reason, log, status=REFUSED)
        return _refused(targets, reason, log)
    apply(plan, targets, source, pin)
    log.append(
        f"provisioned terminal {plan.terminal_id} (branch {plan.branch or '-'}, provision id "
        f"{plan.provision_id}) from {source}: /etc/appliance/appliance.toml, "
        f"erpnext.secret (root 0600), hostname {hostname_for(plan.terminal_id)}, "
        f"{len(plan.authorized_keys)} SSH key(s) for root: "
        f"{', '.join(plan.fingerprints) or '-'}"
        + ("; transfer key" if plan.transfer_key is not None else "")
        + (f"; provisioning key {key_fingerprint(pin)}" if pin else "; no provisioning key")
    )
    if pin is None:
        log.append(
            "note: no provisioning signing key: this till will apply no further provisioning "
            "file (sign the first file to allow re-provisioning by stick)"
        )
    if do_scrub:
        log.append(f"{file.name}: secrets removed: {scrub(file, plan)}")
    write_status(
        targets,
        "provisioned",
        f"provisioned as {plan.terminal_id}",
        terminal_id=plan.terminal_id,
        branch=plan.branch,
        provision_id=plan.provision_id,
    )
    return APPLIED, log


def _invalid(
    targets: Targets,
    placeholder: bool,
    check: bool,
    reason: str,
    log: list[str],
    *,
    status: int = INVALID,
) -> tuple[int, list[str]]:
    log.append(f"not provisioned: {reason}" if placeholder else f"file ignored: {reason}")
    if placeholder and not check:
        write_status(targets, "error", shown(reason))
    return status, log


def _refused(targets: Targets, reason: str, log: list[str]) -> tuple[int, list[str]]:
    """A provisioned till refuses a file: nothing changes; the journal and tty1 say why."""
    log.append(f"refused: {reason}")
    write_status(targets, "refused", shown(reason))
    return REFUSED, log

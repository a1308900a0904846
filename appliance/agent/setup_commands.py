"""Handlers for ``appliance erpnext setup`` and ``appliance erpnext set-pin``.

Both use the terminal's [erpnext] connection. Changing a site's schema or a POS Profile needs
more than the integration user should hold (System Manager): ``--admin-key`` with
``--admin-secret-file`` makes the writes as an administrator, while the integration user's
roles and reads are still the ones checked.

Exit codes: 0 done (or nothing missing); 1 ERPNext unreachable; 2 bad config or input;
3 ERPNext refused (authentication, permission, validation); 4 something is missing (``--check``
found work to do, or a role only a person can grant). Errors are one line on stderr; the PIN
and the secrets never reach stdout, stderr or a log.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections import Counter
from pathlib import Path

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.agent.commands import (
    EXIT_LINK,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_USAGE,
    _config,
    _emit,
    _fail,
)
from appliance.agent.pins import PinError, check_pin, hash_pin, set_pin
from appliance.agent.setup import SetupError, explain, run_setup
from appliance.config import ConfigError, ERPNextConfig
from appliance.secret_file import SecretFileError, read_secret_file

EXIT_MISSING = 4


def _erpnext_config(args: argparse.Namespace) -> ERPNextConfig:
    cfg = _config(args)
    if cfg.erpnext is None:
        raise ConfigError(f"{cfg.source}: [erpnext]: is required to reach ERPNext")
    return cfg.erpnext


def _read_admin_secret(path: Path) -> str:
    # The same checks as the agent's own secret: one line, private to its owner.
    try:
        return read_secret_file(path)
    except FileNotFoundError:
        raise ConfigError(f"--admin-secret-file: {path} does not exist") from None
    except SecretFileError as exc:
        raise ConfigError(f"--admin-secret-file: {exc}") from None


def _clients(args: argparse.Namespace) -> tuple[ERPNextClient, ERPNextClient]:
    """(the client that writes, the integration user's client)."""
    cfg = _erpnext_config(args)
    if bool(args.admin_key) != bool(args.admin_secret_file):
        raise ConfigError("--admin-key and --admin-secret-file go together")
    agent = ERPNextClient.from_config(cfg)
    if not args.admin_key:
        return agent, agent
    admin = ERPNextClient(
        cfg.url,
        args.admin_key,
        _read_admin_secret(Path(args.admin_secret_file)),
        timeout=cfg.timeout,
        verify_tls=cfg.verify_tls,
        ca_file=cfg.ca_file,
    )
    return admin, agent


def _error_code(kind: ErrorKind) -> int:
    return EXIT_LINK if kind is ErrorKind.RETRY else EXIT_STOPPED


def setup(args: argparse.Namespace) -> int:
    try:
        cfg = _config(args)
        writer, agent = _clients(args)
    except (ConfigError, ERPNextError) as exc:
        return _fail("erpnext setup", str(exc), EXIT_USAGE)
    try:
        report = run_setup(
            writer,
            check=args.check,
            agent=agent,
            terminal=cfg.terminal.id,
            pos_profile=cfg.erpnext.pos_profile if cfg.erpnext else None,
        )
    except SetupError as exc:
        return _fail("erpnext setup", str(exc), _error_code(exc.kind))
    finally:
        writer.close()
        agent.close()
    if args.json:
        _emit({"erpnext": agent.url, **report.as_dict()})
    else:
        mode = " (check only: nothing written)" if args.check else ""
        print(f"ERPNext {agent.url}, integration user {report.user}{mode}")
        for finding in report.findings:
            print(finding.line())
        counts = Counter(f.status.value for f in report.findings)
        print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    if report.missing:
        first = report.missing[0]
        reason = f"{len(report.missing)} missing (first: {first.what}: {first.detail})"
        return _fail("erpnext setup", reason, EXIT_MISSING)
    return EXIT_OK


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return check_pin(sys.stdin.readline().rstrip("\r\n"))
    first = check_pin(getpass.getpass("New PIN: "))
    if getpass.getpass("Same PIN again: ") != first:
        raise PinError("the two PINs differ")
    return first


def set_pin_command(args: argparse.Namespace) -> int:
    try:
        cfg = _erpnext_config(args)
        pin_hash = hash_pin(_read_pin(args.pin_stdin))
        writer, agent = _clients(args)
    except (ConfigError, ERPNextError, PinError) as exc:
        return _fail("erpnext set-pin", str(exc), EXIT_USAGE)
    except EOFError:
        return _fail("erpnext set-pin", "no PIN given", EXIT_USAGE)
    profile = args.profile or cfg.pos_profile
    try:
        done = set_pin(writer, profile, args.user, pin_hash, args.role)
    except PinError as exc:
        return _fail("erpnext set-pin", str(exc), EXIT_MISSING)
    except ERPNextError as exc:
        return _fail(
            "erpnext set-pin", explain(f"POS Profile {profile}", exc), _error_code(exc.kind)
        )
    finally:
        writer.close()
        agent.close()
    verb = "added to" if done.added else "updated on"
    print(f"PIN set for {done.user} ({done.role}), {verb} POS Profile {done.profile}")
    return EXIT_OK

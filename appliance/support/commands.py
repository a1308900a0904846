"""Handlers for ``appliance health``, ``appliance busy`` and ``appliance support-bundle``.

Exit codes: ``health`` 0 healthy, 1 not; ``busy`` 0 a sale is in progress, 1 the till is idle
(so ``while appliance busy; do sleep 5; done`` waits for the till); ``support-bundle`` 0 made.
Any of them: 2 could not run, one line on stderr. JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.config import ConfigError, load_config
from appliance.support.activity import read_activity
from appliance.support.bundle import make_bundle
from appliance.support.health import HealthOptions, run_health

EXIT_OK = 0
EXIT_NOT = 1
EXIT_USAGE = 2


def _emit(document: dict[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def _fail(command: str, reason: str) -> int:
    print(f"{command}: {reason}".splitlines()[0], file=sys.stderr)
    return EXIT_USAGE


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def health(args: argparse.Namespace) -> int:
    options = HealthOptions(
        config=_path(args.config),
        max_sync_age=args.max_sync_age,
        max_failed_cycles=args.max_failed_cycles,
        min_free_mb=args.min_free_mb,
        max_link_down=args.max_link_down,
        units_from=_path(args.units_from),
    )
    try:
        report = run_health(options)
    except OSError as exc:
        return _fail("health", str(exc))
    _emit(report)
    return EXIT_OK if report["ok"] else EXIT_NOT


def busy(args: argparse.Namespace) -> int:
    try:
        activity = read_activity(paths.data_dir())
    except ValueError as exc:
        return _fail("busy", str(exc))
    _emit(activity.as_dict())
    return EXIT_OK if activity.busy else EXIT_NOT


def support_bundle(args: argparse.Namespace) -> int:
    # By default beside the till's data (in its vault), never wherever the shell happened to be:
    # a bundle holds the shop's logs and receipts.
    out = _path(args.out) or support_dir() / default_bundle_name(_path(args.config))
    try:
        summary = make_bundle(out, args.since_hours, _path(args.config))
    except OSError as exc:
        return _fail("support-bundle", f"cannot write {out}: {exc}")
    _emit(summary)
    return EXIT_OK


def support_dir() -> Path:
    directory = paths.data_dir() / "support"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    return directory


def default_bundle_name(config: Path | None) -> str:
    try:
        terminal = load_config(config).terminal.id
    except ConfigError:
        terminal = "unknown"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"appliance-support-{terminal}-{stamp}.tar.gz"

"""``appliance provision``: the command appliance-provision.service runs (see provision.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.provision import INVALID, Targets, provision, write_status


def _targets(root: str) -> Targets:
    base = Path(root)
    t = Targets()
    return Targets(
        etc=base / t.etc.relative_to("/"),
        ssh_keys=base / t.ssh_keys.relative_to("/"),
        status=base / t.status.relative_to("/"),
    )


def provision_command(args: argparse.Namespace) -> int:
    targets = _targets(args.root)
    if args.status_only:
        write_status(targets, "unprovisioned", args.reason or "not provisioned")
        return 0
    if not args.file:
        print("appliance provision: --from FILE is required", file=sys.stderr)
        return INVALID
    status, log = provision(
        Path(args.file), targets, source=args.source, do_scrub=args.scrub, check=args.check
    )
    for line in log:
        print(f"appliance-provision: {line}", flush=True)
    return status

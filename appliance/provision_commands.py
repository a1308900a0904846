"""``appliance provision``: the command appliance-provision.service runs (see provision.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.provision import (
    APPLIED,
    INVALID,
    ProvisionError,
    Targets,
    load,
    provision,
    write_status,
)
from appliance.provision_check import deep_check
from appliance.provision_signing import SignatureError, key_fingerprint, new_key, sign, signer
from appliance.provision_status import shown


def _targets(root: str) -> Targets:
    base = Path(root)
    t = Targets()
    return Targets(
        etc=base / t.etc.relative_to("/"),
        ssh_keys=base / t.ssh_keys.relative_to("/"),
        status=base / t.status.relative_to("/"),
    )


def provision_command(args: argparse.Namespace) -> int:
    if args.sign or args.new_signing_key:
        return _it_command(args)
    targets = _targets(args.root)
    if args.status_only:
        write_status(targets, "unprovisioned", args.reason or "not provisioned")
        return 0
    if not args.file:
        print("appliance provision: --from FILE is required", file=sys.stderr)
        return INVALID
    if args.online and not args.check:
        print("appliance provision: --online goes with --check", file=sys.stderr)
        return INVALID
    status, log = provision(
        Path(args.file), targets, source=args.source, do_scrub=args.scrub, check=args.check
    )
    if args.check and status == APPLIED:
        _, plan = load(Path(args.file))
        report = deep_check(plan, online=args.online)
        log += report.lines
        if report.problems:
            status = INVALID
    for line in log:
        print(f"appliance-provision: {shown(line)}", flush=True)
    return status


def _it_command(args: argparse.Namespace) -> int:
    """IT's side, on its own machine: make the signing key, sign a file (docs/operations.md)."""
    try:
        if args.new_signing_key:
            line = new_key(Path(args.new_signing_key), "appliance provisioning key")
            print(
                f"public key ({key_fingerprint(line)}), for image/build or [provision] "
                f"signing_key:\n{line}"
            )
            print(f"Keep {args.new_signing_key} offline; only the .pub goes anywhere else.")
            return 0
        if not args.key:
            print("appliance provision: --sign needs --key KEYFILE", file=sys.stderr)
            return INVALID
        file = Path(args.sign)
        _, plan = load(file)  # IT signs only what a till would accept
        sig = sign(file, Path(args.key))
        by = key_fingerprint(signer(sig.read_bytes()))
    except (SignatureError, ProvisionError, OSError) as exc:
        print(f"appliance provision: {exc}", file=sys.stderr)
        return INVALID
    what = "re-provisions" if plan.reprovision else "provisions"
    print(
        f"{sig}: {file.name} {what} terminal {plan.terminal_id} as id {plan.provision_id}, "
        f"signed with {by}"
    )
    print(f"Copy both {file.name} and {sig.name} to the APPL-PROV stick or partition.")
    return 0

"""The one entry point: ``appliance <command>``.

Machine-readable commands print JSON on stdout; on error they exit non-zero with one line on
stderr naming the problem. Commands import their modules lazily so ``appliance quote`` does not
pay for SQLAlchemy or Textual.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import Any

from appliance import __version__

Handler = Callable[[argparse.Namespace], int]


def _quote(args: argparse.Namespace) -> int:
    from appliance.sales.quote import run_quote

    def resolve(doc: dict[str, Any]) -> dict[str, Any]:
        # Only a quote for a named customer without tax rows opens the store.
        from appliance.counter.quote_taxes import resolve_from_store

        return resolve_from_store(doc)

    return run_quote(sys.stdin, sys.stdout, sys.stderr, resolve)


def _db_check(args: argparse.Namespace) -> int:
    from appliance.store.commands import db_check

    return db_check(args)


def _db_migrate(args: argparse.Namespace) -> int:
    from appliance.store.commands import db_migrate

    return db_migrate(args)


def _db_accept_loss(args: argparse.Namespace) -> int:
    from appliance.store.commands import db_accept_loss

    return db_accept_loss(args)


def _journal_verify(args: argparse.Namespace) -> int:
    if args.against_erpnext:
        from appliance.agent.commands import journal_against_erpnext

        return journal_against_erpnext(args)
    from appliance.store.commands import journal_verify

    return journal_verify(args)


def _demo_data(args: argparse.Namespace) -> int:
    from appliance.counter.commands import demo_data

    return demo_data(args)


def _simulate(args: argparse.Namespace) -> int:
    from appliance.counter.commands import simulate

    return simulate(args)


def _tui(args: argparse.Namespace) -> int:
    gc.disable()  # until the first paint: `appliance.tui.app.resume_gc`
    from appliance.tui.commands import tui

    return tui(args)


def _demo(args: argparse.Namespace) -> int:
    gc.disable()  # until the first paint: `appliance.tui.app.resume_gc`
    from appliance.tui.commands import demo

    return demo(args)


def _receipt_render(args: argparse.Namespace) -> int:
    from appliance.counter.receipt_commands import receipt_render

    return receipt_render(args)


def _receipt_find(args: argparse.Namespace) -> int:
    from appliance.counter.receipt_commands import receipt_find

    return receipt_find(args)


def _devices(args: argparse.Namespace) -> int:
    from appliance.drivers.commands import devices_list

    return devices_list(args)


def _devices_test(args: argparse.Namespace) -> int:
    from appliance.drivers.commands import devices_test

    return devices_test(args)


def _agent(args: argparse.Namespace) -> int:
    from appliance.agent.commands import agent

    return agent(args)


def _sync(args: argparse.Namespace) -> int:
    from appliance.agent.commands import sync_once

    return sync_once(args)


def _status(args: argparse.Namespace) -> int:
    from appliance.agent.commands import status

    return status(args)


def _export(args: argparse.Namespace) -> int:
    from appliance.transfer.commands import export

    return export(args)


def _import(args: argparse.Namespace) -> int:
    from appliance.transfer.commands import import_

    return import_(args)


def _transfer_key(args: argparse.Namespace) -> int:
    from appliance.transfer.commands import transfer_key

    return transfer_key(args)


def _provision(args: argparse.Namespace) -> int:
    from appliance.provision_commands import provision_command

    return provision_command(args)


def _transfer_commands(command: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """``appliance export`` / ``import``: USB bundles for a terminal with no link."""
    out = command("export", _export, "Write the documents not yet in ERPNext to a USB bundle")
    out.add_argument("--to", required=True, metavar="DIR", help="where to write it (the stick)")
    out.add_argument("--key-file", metavar="FILE", help="default: [transfer] key_file")
    into = command("import", _import, "Verify a USB bundle and send its documents to ERPNext")
    into.add_argument("bundle", metavar="BUNDLE", help="the .bundle file")
    into.add_argument("--key-file", metavar="FILE", help="the bundle's terminal's transfer key")
    into.add_argument(
        "--keys-dir", metavar="DIR", help="<terminal id>.key files (default: [transfer] keys_dir)"
    )
    into.add_argument("--batch-size", type=int, default=50, help=argparse.SUPPRESS)
    for p in (out, into):
        p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
        p.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    key = command("transfer-key", _transfer_key, "Make a terminal's transfer key (mode 0600)")
    key.add_argument("--terminal", required=True, metavar="ID", help="the terminal's id")
    key.add_argument("--out", required=True, metavar="FILE|DIR", help="DIR: DIR/<id>.key")
    key.add_argument("--replace", action="store_true", help="overwrite an existing key file")


def _erpnext_setup(args: argparse.Namespace) -> int:
    from appliance.agent.setup_commands import setup

    return setup(args)


def _erpnext_set_pin(args: argparse.Namespace) -> int:
    from appliance.agent.setup_commands import set_pin_command

    return set_pin_command(args)


def _erpnext_commands(sub: Any) -> None:
    """``appliance erpnext setup|set-pin``: what the site needs, and cashiers' PINs."""
    erpnext = sub.add_parser("erpnext", help="Prepare ERPNext for the appliance").add_subparsers(
        dest="erpnext_command", required=True, metavar="ACTION"
    )
    setup = erpnext.add_parser(
        "setup",
        help="Create the custom fields and DocType the appliance needs; check the user's roles",
    )
    setup.set_defaults(handler=_erpnext_setup)
    setup.add_argument("--check", action="store_true", help="change nothing; exit 4 if missing")
    setup.add_argument("--json", action="store_true", help="the findings as JSON")
    pin = erpnext.add_parser(
        "set-pin", help="Set a cashier's till PIN (hashed) on the POS Profile in ERPNext"
    )
    pin.set_defaults(handler=_erpnext_set_pin)
    pin.add_argument("--user", required=True, help="the cashier's ERPNext user (email)")
    pin.add_argument("--profile", help="POS Profile (default: [erpnext] pos_profile)")
    pin.add_argument("--role", choices=("Cashier", "Supervisor"), help="default: kept, or Cashier")
    pin.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from one stdin line (automation)"
    )
    for p in (setup, pin):
        p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
        p.add_argument("--admin-key", help="write as this API key's user (a System Manager)")
        p.add_argument("--admin-secret-file", metavar="FILE", help="the --admin-key's secret")


def _health(args: argparse.Namespace) -> int:
    from appliance.support.commands import health

    return health(args)


def _busy(args: argparse.Namespace) -> int:
    from appliance.support.commands import busy

    return busy(args)


def _support_bundle(args: argparse.Namespace) -> int:
    from appliance.support.commands import support_bundle

    return support_bundle(args)


def _sync_options(p: argparse.ArgumentParser, *, service: bool) -> None:
    """Options shared by ``agent`` and ``sync`` (kept here: building the parser stays cheap)."""
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument(
        "--interval",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds between push cycles when all is well (default 10)",
    )
    p.add_argument(
        "--stop-retry",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds between tries after an auth, TLS or setup failure (default 300)",
    )
    p.add_argument("--batch-size", type=int, default=50, help=argparse.SUPPRESS)
    p.add_argument("--page-size", type=int, default=None, help=argparse.SUPPRESS)
    if service:
        p.add_argument(
            "--pull-interval",
            type=float,
            default=60.0,
            metavar="S",
            help="seconds between pulls of masters from ERPNext (default 60)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    command("quote", _quote, "Compute an invoice's totals exactly as ERPNext (JSON in, JSON out)")

    p = command("provision", _provision, "Provision this till from a provision.toml (root)")
    p.add_argument("--from", dest="file", metavar="FILE", help="the provision.toml to apply")
    p.add_argument("--check", action="store_true", help="only validate FILE; write nothing")
    p.add_argument(
        "--online",
        action="store_true",
        help="with --check: ask ERPNext (the file's URL and key) for the key and POS Profile",
    )
    p.add_argument("--scrub", action="store_true", help="remove the secrets from FILE once applied")
    p.add_argument("--source", default="", help="where FILE came from (for the log)")
    p.add_argument("--status-only", action="store_true", help="only record --reason for the till")
    p.add_argument("--sign", metavar="FILE", help="IT: validate FILE and sign it (FILE.sig)")
    p.add_argument("--key", metavar="KEYFILE", help="IT: the provisioning signing key (private)")
    p.add_argument(
        "--new-signing-key", metavar="PATH", help="IT: make a signing key pair (PATH, PATH.pub)"
    )
    p.add_argument("--reason", default="", help=argparse.SUPPRESS)
    p.add_argument("--root", default="/", help=argparse.SUPPRESS)  # tests: a fake root

    p = command("tui", _tui, "Run the counter screen (the till) on this terminal")
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
    p.add_argument("--demo", action="store_true", help="show the demo cashiers' PINs")

    p = command("demo", _demo, "Seed the demo store if empty (./var/demo) and run the till on it")
    p.add_argument("--seed-only", action="store_true", help="seed and print the database path")

    p = command("demo-data", _demo_data, "Seed the demo store in $APPLIANCE_DATA (idempotent)")
    p.add_argument("--items", type=int, default=2_400, help="catalog size (default 2400)")
    p.add_argument("--customers", type=int, default=600)
    p.add_argument("--seed", type=int, default=7)

    p = command("simulate", _simulate, "Commit N realistic sales through the counter's path")
    p.add_argument("--sales", type=int, required=True, metavar="N")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--each",
        action="store_true",
        help="print one JSON line per sale as soon as it is durable (before the summary)",
    )
    p.add_argument(
        "--close-shift",
        action="store_true",
        help="then count the drawer as expected and close the shift (a whole shift, headless)",
    )
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")

    p = command(
        "agent", _agent, "Run the sync agent (the systemd service): push sales, pull masters"
    )
    _sync_options(p, service=True)

    p = command("sync", _sync, "Sync with ERPNext now: one full cycle, JSON summary on stdout")
    p.add_argument(
        "--once", action="store_true", required=True, help="one cycle (recover, push, pull)"
    )
    _sync_options(p, service=False)

    p = command("status", _status, "The sync agent's state: link, queue, quarantined (JSON)")
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")

    _transfer_commands(command)

    p = command("health", _health, "Is this terminal fit to sell and sync (JSON; exit 1 if not)")
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
    p.add_argument(
        "--max-sync-age",
        type=float,
        default=86_400.0,
        metavar="S",
        help="fail when the last push/pull is older (default 86400; 0: never fail on age)",
    )
    p.add_argument(
        "--max-failed-cycles",
        type=int,
        default=3,
        metavar="N",
        help="fail after N failed sync cycles in a row (default 3; 0: never fail on these)",
    )
    p.add_argument(
        "--max-link-down",
        type=float,
        default=900.0,
        metavar="S",
        help="fail when ERPNext was unreachable (or never reached) this long (900; 0: never)",
    )
    p.add_argument(
        "--min-free-mb", type=int, default=500, metavar="N", help="free space under the data dir"
    )
    p.add_argument(
        "--units-from",
        metavar="FILE",
        help="unit states from a JSON file instead of systemd (tests; $APPLIANCE_UNITS_FROM)",
    )

    command("busy", _busy, "Exit 0 while a sale is in progress on the till, 1 when idle (JSON)")

    p = command("support-bundle", _support_bundle, "Logs, state and versions in a .tar.gz")
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
    p.add_argument(
        "--since-hours", type=float, default=24.0, metavar="N", help="journal span (default 24)"
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="where to write it (default $APPLIANCE_DATA/support/appliance-support-*)",
    )

    _erpnext_commands(sub)

    receipt = sub.add_parser("receipt", help="Stored receipts").add_subparsers(
        dest="receipt_command", required=True, metavar="ACTION"
    )
    p = receipt.add_parser(
        "render",
        help="A stored receipt as text (as the printer would print it) or as a PNG",
    )
    p.set_defaults(handler=_receipt_render)
    p.add_argument("receipt_no", metavar="RECEIPT-NO", help="receipt number (or offline id)")
    p.add_argument("--png", metavar="FILE", help="write a PNG preview to FILE instead")
    p.add_argument(
        "--width", type=int, choices=(58, 80), help="paper width in mm (default: the printer's)"
    )
    p.add_argument("--copy", action="store_true", help="render it as a reprint (COPY)")
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
    p = receipt.add_parser(
        "find",
        help="Past sales on this till by receipt number, date, time, amount, customer or item",
    )
    p.set_defaults(handler=_receipt_find)
    p.add_argument(
        "terms", nargs="*", metavar="TERM", help="every term must match (none: the latest sales)"
    )
    p.add_argument("--limit", type=int, default=50, metavar="N", help="list at most N (50)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")

    p = command("devices", _devices, "Configured and detected devices with their state (JSON)")
    p.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
    p.add_argument("--timeout", type=float, default=2.0, metavar="S", help=argparse.SUPPRESS)
    dev = p.add_subparsers(dest="devices_command", metavar="ACTION")
    t = dev.add_parser(
        "test",
        help="Exercise one device: test page, drawer kick, display line, weight, a scan",
    )
    t.set_defaults(handler=_devices_test)
    t.add_argument("kind", help="printer, drawer, display, scale, scanner or a [devices.NAME]")
    # SUPPRESS: a subcommand's default would overwrite `appliance devices --config X test`.
    t.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    t.add_argument(
        "--wait", type=float, default=10.0, metavar="S", help="scanner: seconds to wait for a scan"
    )

    db = sub.add_parser("db", help="Local database maintenance").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser(
        "check", help="SQLite integrity check and the appliance's invariants"
    ).set_defaults(handler=_db_check)
    db.add_parser(
        "migrate", help="Create or upgrade the database to the latest schema"
    ).set_defaults(handler=_db_migrate)
    loss = db.add_parser(
        "accept-loss",
        help="IT: the store lost committed work (no backup): record it and let the till go on",
    )
    loss.set_defaults(handler=_db_accept_loss)
    loss.add_argument("--reason", required=True, help="why, for the audit journal (e.g. a ticket)")

    journal = sub.add_parser("journal", help="The audit journal").add_subparsers(
        dest="journal_command", required=True, metavar="ACTION"
    )
    verify = journal.add_parser("verify", help="Verify the journal's hash chain")
    verify.set_defaults(handler=_journal_verify)
    verify.add_argument(
        "--against-erpnext",
        action="store_true",
        help="compare with the journal anchors ERPNext holds for this till's synced sales",
    )
    verify.add_argument("--config", help="config file (default $APPLIANCE_CONFIG)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The one entry point: ``appliance <command>``.

Machine-readable commands print JSON on stdout; on error they exit non-zero with one line on
stderr naming the problem. Commands import their modules lazily so ``appliance quote`` does not
pay for SQLAlchemy or Textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from appliance import __version__

Handler = Callable[[argparse.Namespace], int]


def _quote(args: argparse.Namespace) -> int:
    from appliance.sales.quote import run_quote

    return run_quote(sys.stdin, sys.stdout, sys.stderr)


def _db_check(args: argparse.Namespace) -> int:
    from appliance.store.commands import db_check

    return db_check(args)


def _db_migrate(args: argparse.Namespace) -> int:
    from appliance.store.commands import db_migrate

    return db_migrate(args)


def _journal_verify(args: argparse.Namespace) -> int:
    from appliance.store.commands import journal_verify

    return journal_verify(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    command("quote", _quote, "Compute an invoice's totals exactly as ERPNext (JSON in, JSON out)")

    db = sub.add_parser("db", help="Local database maintenance").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser(
        "check", help="SQLite integrity check and the appliance's invariants"
    ).set_defaults(handler=_db_check)
    db.add_parser(
        "migrate", help="Create or upgrade the database to the latest schema"
    ).set_defaults(handler=_db_migrate)

    journal = sub.add_parser("journal", help="The audit journal").add_subparsers(
        dest="journal_command", required=True, metavar="ACTION"
    )
    journal.add_parser("verify", help="Verify the journal's hash chain").set_defaults(
        handler=_journal_verify
    )
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

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    command("quote", _quote, "Compute an invoice's totals exactly as ERPNext (JSON in, JSON out)")

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

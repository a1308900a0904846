"""`appliance receipt render <receipt-no>`: any stored receipt as text or PNG, for support;
`appliance receipt find TERM...`: the receipt journal's search (counter/receipt_journal.py).

The text is decoded from the ESC/POS bytes the configured printer's driver would send for it
(`appliance.drivers.printer.render`), so it shows what the paper shows: the layout at the
configured (or asked-for) width, the OFFLINE marker while the sale is unsynced, the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.orm import Session

from appliance import paths
from appliance.config import Config, ConfigError, load_config
from appliance.counter.clock import site_clock
from appliance.counter.receipt_journal import find_receipts
from appliance.counter.receipts import ReceiptNotFoundError, ReceiptSource, receipt_for
from appliance.counter.typed_numbers import style_of
from appliance.drivers.config import PrinterConfig
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.printer.layout import ReceiptLayout
from appliance.drivers.printer.render import preview_config, preview_png, preview_text
from appliance.sales.till import TillProfile
from appliance.store.catalog import StoreNotReadyError, load_till_profile
from appliance.store.db import create_db_engine


def _fail(message: str, code: int = 1) -> int:
    print(f"receipt: {message}", file=sys.stderr)
    return code


class _UnusableError(Exception):
    """No config or no store to read receipts from (exit 2)."""


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[tuple[Config, Session, TillProfile]]:
    """The configured store, read-only, with its till profile."""
    try:
        cfg = load_config(Path(args.config) if args.config else None)
    except ConfigError as exc:
        raise _UnusableError(str(exc)) from None
    db = paths.db_path()
    if not db.exists():
        raise _UnusableError(f"no database at {db}")
    engine = create_db_engine(db)
    try:
        with Session(engine) as session:
            yield cfg, session, load_till_profile(session, cfg.pos_profile, cfg.scan)
    finally:
        engine.dispose()


def receipt_render(args: argparse.Namespace) -> int:
    try:
        with _store(args) as (cfg, session, profile):
            printer_cfg = preview_config(cfg.devices.first(PrinterConfig), args.width)
            source = ReceiptSource.of(profile, cfg.terminal.id)
            data = receipt_for(session, args.receipt_no, source, reprint=args.copy)
    except _UnusableError as exc:
        return _fail(str(exc), 2)
    except (ReceiptNotFoundError, StoreNotReadyError) as exc:
        return _fail(str(exc))
    symbology = EscposPrinter(printer_cfg).symbology
    document = ReceiptLayout(columns=printer_cfg.columns, code=symbology).render(data)
    if args.png:
        target = preview_png(document, args.png, printer_cfg)
        print(target)
    else:
        sys.stdout.write(preview_text(document, printer_cfg))
    return 0


def receipt_find(args: argparse.Namespace) -> int:
    """The journal's search, as the till's screen runs it (exit 1 when nothing matches)."""
    text = " ".join(args.terms)
    try:
        with _store(args) as (_cfg, session, profile):
            page = find_receipts(
                session,
                text,
                style=style_of(profile.number_format),
                today=site_clock(profile.time_zone)().date(),
                rounded=not profile.settings.disable_rounded_total,
                limit=max(1, args.limit),
            )
    except _UnusableError as exc:
        return _fail(str(exc), 2)
    except (StoreNotReadyError, ValueError) as exc:
        return _fail(str(exc))
    if not page.hits:
        return _fail(f"no sale on this till matches {text!r}" if text else "no sales on this till")
    if args.json:
        rows = [{**asdict(hit), "posted_at": hit.posted_at.isoformat()} for hit in page.hits]
        print(json.dumps({"sales": rows, "more": page.more}, indent=1, default=str))
        return 0
    for hit in page.hits:
        kind = "return" if hit.is_return else "sale"
        sent = "sent" if hit.synced else "unsent"
        print(
            f"{hit.receipt_no:<16} {hit.posted_at:%Y-%m-%d %H:%M}  {hit.total:>12}  "
            f"{kind:<6} {sent:<6} {hit.lines:>3} lines  {hit.customer}"
        )
    if page.more:
        print(f"(more than {len(page.hits)} match: add a term)")
    return 0

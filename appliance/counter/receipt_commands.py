"""`appliance receipt render <receipt-no>`: any stored receipt as text or PNG, for support.

The text is decoded from the ESC/POS bytes the configured printer's driver would send for it
(`appliance.drivers.printer.render`), so it shows what the paper shows: the layout at the
configured (or asked-for) width, the OFFLINE marker while the sale is unsynced, the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from appliance import paths
from appliance.config import ConfigError, load_config
from appliance.counter.receipts import ReceiptNotFoundError, ReceiptSource, receipt_for
from appliance.drivers.config import PrinterConfig
from appliance.drivers.printer.driver import EscposPrinter
from appliance.drivers.printer.layout import ReceiptLayout
from appliance.drivers.printer.render import preview_config, preview_png, preview_text
from appliance.store.catalog import StoreNotReadyError, load_till_profile
from appliance.store.db import create_db_engine


def _fail(message: str, code: int = 1) -> int:
    print(f"receipt: {message}", file=sys.stderr)
    return code


def receipt_render(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(Path(args.config) if args.config else None)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    db = paths.db_path()
    if not db.exists():
        return _fail(f"no database at {db}", 2)
    printer_cfg = preview_config(cfg.devices.first(PrinterConfig), args.width)
    engine = create_db_engine(db)
    try:
        with Session(engine) as session:
            profile = load_till_profile(session, cfg.pos_profile, cfg.scan)
            source = ReceiptSource.of(profile, cfg.terminal.id)
            data = receipt_for(session, args.receipt_no, source, reprint=args.copy)
    except (ReceiptNotFoundError, StoreNotReadyError) as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    symbology = EscposPrinter(printer_cfg).symbology
    document = ReceiptLayout(columns=printer_cfg.columns, code=symbology).render(data)
    if args.png:
        target = preview_png(document, args.png, printer_cfg)
        print(target)
    else:
        sys.stdout.write(preview_text(document, printer_cfg))
    return 0

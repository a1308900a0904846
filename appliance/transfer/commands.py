"""Handlers for ``appliance export --to DIR`` and ``appliance import BUNDLE``.

Exit codes (as the agent's commands, plus 4): 0 done (export: also when nothing was waiting,
``"bundle": null``); 1 the ERPNext link failed during the import (run it again: nothing is sent
twice); 2 the command could not run, or the bundle is refused (altered, truncated, wrong key:
then nothing was sent); 3 ERPNext refuses the import's credentials or setup; 4 some documents
were not accepted by ERPNext (listed in the JSON). JSON on stdout, one line on stderr otherwise.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from appliance import paths
from appliance.actor import cli_actor
from appliance.agent.client import ERPNextClient, ERPNextError
from appliance.agent.commands import EXIT_LINK, EXIT_OK, EXIT_STOPPED, _emit, _fail
from appliance.agent.service import setup_logging
from appliance.config import Config, ConfigError, load_config
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import MigrationError, upgrade_to_head
from appliance.transfer import bundle as bundles
from appliance.transfer.export import export_bundle
from appliance.transfer.importer import import_bundle
from appliance.transfer.keys import (
    TransferKeyError,
    key_for_terminal,
    read_key,
    read_stored_key,
    write_new_key,
)

EXIT_REFUSED_DOCUMENTS = 4


def _quiet(verbose: bool) -> None:
    # stdout carries the JSON and stderr one line on failure: the log only with --verbose.
    setup_logging(verbose, env={})
    if not verbose:
        logging.getLogger().setLevel(logging.CRITICAL)


def _config(args: argparse.Namespace) -> Config:
    return load_config(Path(args.config) if args.config else None)


def export(args: argparse.Namespace) -> int:
    _quiet(args.verbose)
    try:
        cfg = _config(args)
        key_file = Path(args.key_file) if args.key_file else cfg.transfer.key_file
        if key_file is None:
            raise ConfigError(
                f"{cfg.source}: [transfer] key_file: is required to export (or pass --key-file)"
            )
        key = read_key(key_file)
        directory = Path(args.to)
        if not directory.is_dir():
            raise ConfigError(f"--to {directory}: not a directory (is the stick mounted?)")
        db = paths.db_path()
        if not db.is_file():
            raise ConfigError(f"no database at {db} (set APPLIANCE_DATA)")
        upgrade_to_head(db)
    except (ConfigError, TransferKeyError, MigrationError, SQLAlchemyError) as exc:
        return _fail("export", str(exc))
    engine = create_db_engine(db)
    try:
        result = export_bundle(
            make_session_factory(engine, read_only=True),
            make_session_factory(engine),
            terminal=cfg.terminal.id,
            key=key,
            directory=directory,
            actor=cli_actor(),
        )
    except OSError as exc:
        return _fail("export", f"cannot write the bundle in {directory}: {exc}")
    except SQLAlchemyError as exc:
        return _fail("export", f"cannot read {db}: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
    _emit(result.as_dict())
    return EXIT_OK


def _key_finder(args: argparse.Namespace, cfg: Config) -> bundles.KeyFinder:
    """The key for the bundle's terminal (a terminal id by now, nothing else the bundle says is
    believed yet): --key-file, else <keys dir>/<terminal>.key (only a file in that directory),
    else this machine's own key when the bundle is its own."""
    keys_dir = Path(args.keys_dir) if args.keys_dir else cfg.transfer.keys_dir

    def key_for(terminal: str) -> bytes:
        if args.key_file:
            return read_key(Path(args.key_file))
        if keys_dir is not None:
            return read_stored_key(keys_dir, terminal)
        if cfg.transfer.key_file is not None and terminal == cfg.terminal.id:
            return read_key(cfg.transfer.key_file)
        raise TransferKeyError(
            f"no transfer key for terminal {terminal}: pass --key-file or --keys-dir "
            f"(or set [transfer] keys_dir)"
        )

    return key_for


def import_(args: argparse.Namespace) -> int:
    _quiet(args.verbose)
    path = Path(args.bundle)
    try:
        cfg = _config(args)
        if cfg.erpnext is None:
            raise ConfigError(f"{cfg.source}: [erpnext]: is required to import (no link here)")
        bundle = bundles.read(path, _key_finder(args, cfg))
    except ConfigError as exc:
        return _fail("import", str(exc))
    except (bundles.BundleError, TransferKeyError) as exc:
        return _fail("import", f"{path.name} refused, nothing sent: {exc}")
    try:
        client = ERPNextClient.from_config(cfg.erpnext)
    except ERPNextError as exc:
        return _fail("import", str(exc), EXIT_STOPPED)
    try:
        result = import_bundle(bundle, client, batch_size=args.batch_size)
    finally:
        client.close()
    _emit(result.as_dict())
    report = result.report
    if report.stopped:
        return _fail("import", f"stopped: {report.stopped}", EXIT_STOPPED)
    if result.link_failed:
        return _fail("import", "ERPNext link failed: run the import again", EXIT_LINK)
    if not result.complete:
        return _fail(
            "import",
            f"{result.bundle.manifest.documents - result.settled} documents not accepted "
            f"by ERPNext, {len(report.mismatches)} with other totals (see the JSON)",
            EXIT_REFUSED_DOCUMENTS,
        )
    return EXIT_OK


def transfer_key(args: argparse.Namespace) -> int:
    """``appliance transfer-key --terminal T --out FILE|DIR``: a new key, its fingerprint."""
    out = Path(args.out)
    try:
        path = key_for_terminal(out, args.terminal) if out.is_dir() else out
        key_fingerprint = write_new_key(path, replace=args.replace)
    except TransferKeyError as exc:
        return _fail("transfer-key", str(exc))
    # The same fingerprint a bundle's manifest carries: compare it on both sides.
    _emit({"terminal": args.terminal, "key_file": str(path), "key_fingerprint": key_fingerprint})
    return EXIT_OK

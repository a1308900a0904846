"""Per-terminal transfer keys: 32 random bytes, written as 64 hex digits in a file.

The terminal signs its bundles with its own key (``[transfer] key_file``); the importer holds the
same key, either as one file (``--key-file``) or in its key store, a directory of
``<terminal id>.key`` files. A bundle's manifest names its terminal before anything in it is
verified: that name picks a file in the key store only if it is a terminal id, and only a file
that really is in the store (no path in the name, no symlink out of the directory).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from appliance.config import TERMINAL_ID
from appliance.untrusted import read_file, reason, shown

KEY_BYTES = 32
KEY_FILE_LIMIT = 4096
_HEX = re.compile(r"^[0-9a-fA-F]+$")


class TransferKeyError(ValueError):
    """A transfer key cannot be read: the message names the file and the problem."""


def read_key(path: Path) -> bytes:
    try:
        text = read_file(path, KEY_FILE_LIMIT).decode("ascii").strip()
    except FileNotFoundError:
        raise TransferKeyError(f"{path}: transfer key file not found") from None
    except OSError as exc:
        raise TransferKeyError(f"{path}: cannot read the transfer key: {reason(exc)}") from None
    except UnicodeDecodeError:
        raise TransferKeyError(f"{path}: cannot read the transfer key: not hex digits") from None
    if not _HEX.match(text) or len(text) < 2 * KEY_BYTES or len(text) % 2:
        # Never echo the content: it may be a key pasted the wrong way.
        raise TransferKeyError(f"{path}: a transfer key is at least {2 * KEY_BYTES} hex digits")
    return bytes.fromhex(text)


def checked_terminal(terminal: object) -> str:
    """``terminal`` if it is a terminal id (the pattern ``[terminal] id`` must match)."""
    if not isinstance(terminal, str) or not TERMINAL_ID.fullmatch(terminal):
        raise TransferKeyError(
            f"{shown(terminal)} is not a terminal id (1-16 letters, digits or _)"
        )
    return terminal


def key_for_terminal(directory: Path, terminal: str) -> Path:
    return directory / f"{checked_terminal(terminal)}.key"


def read_stored_key(store: Path, terminal: str) -> bytes:
    """The key of ``terminal`` in the key store ``store``: ``<terminal>.key``, a file in that
    directory or a symlink to one that stays in it (a key kept under another name there)."""
    path = key_for_terminal(store, terminal)
    try:
        home = store.resolve(strict=True)
    except OSError as exc:
        raise TransferKeyError(f"key store {store}: {reason(exc)}") from None
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise TransferKeyError(f"{path}: transfer key file not found") from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise TransferKeyError(f"{path}: cannot read the transfer key: {exc}") from None
    if not real.is_relative_to(home):
        raise TransferKeyError(
            f"{path}: links outside the key store ({real}): refused, import keys as files"
        )
    return read_key(real)


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it, so "wrong key" can be told apart from "altered"."""
    return hashlib.sha256(b"appliance transfer key\0" + key).hexdigest()[:16]


def write_new_key(path: Path, *, replace: bool = False) -> str:
    """Write a fresh key to ``path`` (mode 0600, never over an existing file unless ``replace``)
    and return its fingerprint. The key itself is never returned, printed or logged."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    key = secrets.token_hex(KEY_BYTES)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise TransferKeyError(
            f"{path}: already exists (a key in use? --replace to overwrite)"
        ) from None
    except OSError as exc:
        raise TransferKeyError(f"{path}: cannot write the transfer key: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        os.fchmod(out.fileno(), 0o600)  # also when replacing a file made with wider rights
        out.write(key + "\n")
        out.flush()
        os.fsync(out.fileno())
    return fingerprint(bytes.fromhex(key))

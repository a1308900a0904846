"""Per-terminal transfer keys: 32 random bytes, written as 64 hex digits in a file.

The terminal signs its bundles with its own key (``[transfer] key_file``); the importer holds the
same key, either as one file (``--key-file``) or in a directory of ``<terminal id>.key`` files.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

KEY_BYTES = 32
_HEX = re.compile(r"^[0-9a-fA-F]+$")


class TransferKeyError(ValueError):
    """A transfer key cannot be read: the message names the file and the problem."""


def read_key(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise TransferKeyError(f"{path}: transfer key file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TransferKeyError(f"{path}: cannot read the transfer key: {exc}") from None
    if not _HEX.match(text) or len(text) < 2 * KEY_BYTES or len(text) % 2:
        # Never echo the content: it may be a key pasted the wrong way.
        raise TransferKeyError(f"{path}: a transfer key is at least {2 * KEY_BYTES} hex digits")
    return bytes.fromhex(text)


def key_for_terminal(directory: Path, terminal: str) -> Path:
    return directory / f"{terminal}.key"


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

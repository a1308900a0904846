"""Per-terminal transfer keys: 32 random bytes, written as 64 hex digits in a file.

The terminal signs its bundles with its own key (``[transfer] key_file``); the importer holds the
same key, either as one file (``--key-file``) or in a directory of ``<terminal id>.key`` files.
"""

from __future__ import annotations

import hashlib
import re
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

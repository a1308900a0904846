"""Reading files that come from outside (a config, a key, a bundle on a stick) and naming what
they hold in an error, without either step being turned against the reader.

A path can name a FIFO (opening it would wait forever for a writer), a device, a socket or a
directory; a file can be endless. :func:`read_file` reads only a regular file, up to a limit, and
says what went wrong in an :class:`OSError` whose ``strerror`` is one plain phrase. :func:`shown`
puts a value from such a file into a one-line message: quoted, control characters escaped, cut.
"""

from __future__ import annotations

import errno
import os
import stat
from decimal import Decimal
from pathlib import Path

SHOWN_CHARS = 40


def read_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), at most ``limit`` of them."""
    # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; fstat then refuses it.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except ValueError:  # a NUL in the path
        raise OSError(errno.EINVAL, "not a usable path", str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise OSError(errno.EINVAL, kind, str(path))
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def reason(exc: OSError) -> str:
    """What went wrong, without Python's ``[Errno n]`` noise."""
    return exc.strerror or str(exc)


def shown(value: object) -> str:
    """``value`` for a one-line message: a string quoted with its escapes (newlines, NULs, ...),
    a number as written, either cut at :data:`SHOWN_CHARS` characters with its real length said;
    anything else by its kind only (a container may be huge or deeply nested)."""
    if isinstance(value, str):
        quoted = repr(value[:SHOWN_CHARS])
        return quoted if len(value) <= SHOWN_CHARS else f"{quoted}... ({len(value)} characters)"
    if value is None or isinstance(value, bool | int | float | Decimal):
        try:
            text = str(value)
        except ValueError:  # an int past Python's 4300-digit limit for str()
            return "<a number too long to show>"
        return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} digits)"
    return f"<{type(value).__name__}>"

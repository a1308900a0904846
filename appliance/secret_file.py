"""Reading a one-line secret from a file, checked before anything uses it.

The secret goes into an HTTP header: a stray line break once made ``requests`` refuse the header
and quote it, secret and all, in its error. So the content is checked here, and every error
says what is wrong and how to fix it without ever quoting the content. A file that its group
or others can read (or change) is refused: it would let any local account take the terminal's
ERPNext identity.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_BYTES = 4096  # far above any API secret: a bigger file is not one


class SecretFileError(ValueError):
    """The secret file cannot be used; the message names the file and the fix, never the content."""


def read_secret_file(path: Path, *, private: bool = True) -> str:
    """The secret in ``path``: one line, one trailing line ending allowed.

    ``private``: refuse a file with any permission bit for group or others (``chmod 600``).
    Raises FileNotFoundError when there is no such file, SecretFileError for anything else.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SecretFileError(
                f"{path} is a symbolic link: name the file itself (a link can be re-pointed)"
            ) from None
        raise SecretFileError(f"cannot read {path}: {exc.strerror}") from None
    info = os.fstat(fd)  # the file read, not whatever the path names later
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise SecretFileError(f"{path} is not a regular file")
    with os.fdopen(fd, "rb") as fh:
        mode = stat.S_IMODE(info.st_mode)
        if private and mode & 0o077:
            raise SecretFileError(
                f"{path} is readable by group or others (mode {mode:03o}): a secret must be "
                f"private to its owner; run `chmod 600 {path}`"
            )
        raw = fh.read(MAX_BYTES + 1)
    return _checked(path, raw)


def _checked(path: Path, raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise SecretFileError(f"{path} is larger than {MAX_BYTES} bytes: not a secret file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretFileError(f"{path} is not UTF-8 text") from None
    # An editor's final line ending is expected; anything else is part of a broken secret.
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            text = text[: -len(ending)]
            break
    if not text:
        raise SecretFileError(f"{path} is empty")
    problem = unfit_secret(text)
    if problem:
        raise SecretFileError(f"{path} has {problem}: write the secret alone on one line")
    return text


def unfit_secret(text: str) -> str | None:
    """Why ``text`` cannot be a secret sent in an HTTP header ("a line break at character 2"),
    or None; never quotes it. Provisioning checks a secret with this before writing it."""
    for position, char in enumerate(text, 1):
        what = _unfit(char)
        if what:
            return f"{what} at character {position}"
    return None


def _unfit(char: str) -> str | None:
    """What ``char`` is, if it cannot be part of a secret sent in an HTTP header."""
    if char in "\r\n":
        return "a line break"
    if char.isspace():
        return "white space"
    if not char.isprintable():
        return "a control character"
    return None

"""What went wrong with the store or an amount, in words the cashier can act on.

A sale, scan or refund that cannot be saved never ends the app and never drops the cart: the
screen keeps it and says what happened (`Failure.why`) and what to do about it
(`Failure.remedy`). The full error goes to the till's log for IT (journald), once, with its
traceback; the screen gets no exception class names.

SQLAlchemy wraps the driver's errors: the ``sqlite3`` error is its ``orig``. This module does
not import SQLAlchemy (the sign-in screen's cold start must not load it).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from dataclasses import dataclass

log = logging.getLogger(__name__)

CALL_IT = "call IT"


@dataclass(frozen=True)
class Failure:
    why: str  # "the till's disk is full"
    remedy: str  # "call IT"
    refused: bool = False  # the cart itself says no (CartError): nothing is wrong with the till

    def sentence(self, what: str, retry: str) -> str:
        """'The sale could not be saved: <why>. The cart is kept; <remedy>, then <retry>.'"""
        if self.refused:
            return f"{what}: {self.why}"
        return f"{what}: {self.why}. The cart is kept; {self.remedy}, then {retry}"


DISK_FULL = Failure("the till's disk is full", CALL_IT)
LOCKED = Failure(
    "another program is holding the till's database",
    "wait a moment (call IT if it happens again)",
)
READ_ONLY = Failure("the till's database cannot be written to", CALL_IT)
DISK_ERROR = Failure("the till's disk failed to read or write", CALL_IT)
OUT_OF_RANGE = Failure(
    "an amount is out of range (check this item's price in ERPNext)", "tell the back office"
)


def environmental(exc: BaseException) -> bool:
    """A failure of the till's store, disk or arithmetic, not of the program's logic."""
    cause = getattr(exc, "orig", None) or exc
    return isinstance(cause, sqlite3.Error | OSError | ArithmeticError)


def failure(exc: BaseException) -> Failure:
    """The cashier's words for ``exc``; anything but a cart refusal is logged for IT."""
    from appliance.counter.carts import CartError  # noqa: PLC0415 - not on the sign-in screen's path

    if isinstance(exc, CartError):
        return Failure(str(exc), "", refused=True)
    log.error("counter operation failed", exc_info=exc)
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, sqlite3.Error):
        return _store_failure(cause)
    if isinstance(cause, OSError):
        if cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return DISK_FULL
        if cause.errno == errno.EROFS:
            return READ_ONLY
        return DISK_ERROR
    if isinstance(cause, ArithmeticError):
        return OUT_OF_RANGE
    return Failure(f"an unexpected error ({type(cause).__name__})", CALL_IT)


def _store_failure(error: sqlite3.Error) -> Failure:
    # sqlite3 gives the result code by name from Python 3.11 (SQLITE_FULL, SQLITE_BUSY...).
    code = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if code.startswith("SQLITE_FULL") or "disk is full" in text:
        return DISK_FULL
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return LOCKED
    if code.startswith("SQLITE_READONLY") or "readonly" in text:
        return READ_ONLY
    if code.startswith("SQLITE_IOERR") or "disk i/o" in text:
        return DISK_ERROR
    return Failure(f"the till's database failed ({error})", CALL_IT)

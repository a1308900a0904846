"""Frappe's error responses, shaped like the recordings in ../shared/erpnext/recorded/.

A v1 error body carries ``exc_type``; ``exception`` and ``exc`` (a JSON string holding a list of
traceback texts) unless the status is 404; and ``_server_messages``, a JSON string of a list of
JSON strings, each a message dict (recorded/15-19, 28, 34-36, 80).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

ERPNEXT_MODULE = "erpnext.accounts.doctype.pos_invoice.pos_invoice"


def server_message(message: str, title: str = "Message", *, fatal: bool = True) -> dict[str, Any]:
    msg: dict[str, Any] = {"message": message, "title": title}
    if fatal:
        msg["indicator"] = "red"
        msg["raise_exception"] = 1
        msg["__frappe_exc_id"] = hashlib.sha224(message.encode()).hexdigest()
    return msg


def encode_server_messages(messages: list[dict[str, Any]]) -> str:
    return json.dumps([json.dumps(m) for m in messages])


@dataclass
class FrappeError(Exception):
    """An exception the fake site raises; the handler turns it into Frappe's JSON body."""

    status: int
    exc_type: str
    message: str
    title: str = "Message"
    module: str = "frappe.exceptions"
    # Messages printed before the failure (e.g. "Changed customer name to ..."), in order.
    notes: list[dict[str, Any]] = field(default_factory=list)
    show_message: bool = True
    error_message: str | None = None
    exc_source: str | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.exc_type}: {self.message}"

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.status != 404:
            line = f"{self.module}.{self.exc_type}"
            out["exception"] = f"{line}: {self.message}" if self.message else line
        out["exc_type"] = self.exc_type
        if self.exc_source:
            out["_exc_source"] = self.exc_source
        if self.status != 404:
            trace = (
                "Traceback (most recent call last):\n"
                '  File "apps/frappe/frappe/app.py", line 115, in application\n'
                "    response = frappe.api.handle(request)\n"
                f"{out['exception']}\n"
            )
            out["exc"] = json.dumps([trace])
        messages = list(self.notes)
        if self.show_message and self.message:
            messages.append(server_message(self.message, self.title))
        if messages:
            out["_server_messages"] = encode_server_messages(messages)
        if self.error_message:
            out["_error_message"] = self.error_message
        return out


def validation(message: str, title: str = "Message", **kw: Any) -> FrappeError:
    return FrappeError(417, "ValidationError", message, title, exc_source="erpnext (app)", **kw)


def mandatory(doctype: str, name: str, fields: list[str]) -> FrappeError:
    # recorded/18: the exception names the fields, one message per missing field.
    notes = [
        server_message(f"Error: Value missing for {doctype}: {_label(f)}", fatal=False)
        for f in fields
    ]
    return FrappeError(
        417,
        "MandatoryError",
        f"[{doctype}, {name}]: {', '.join(fields)}",
        notes=notes,
        show_message=False,
    )


def no_permission(user: str, doctype: str, *, single: bool = False) -> FrappeError:
    denied = (
        f"User <strong>{user}</strong> does not have doctype access via role "
        f"permission for document <strong>{doctype}</strong>"
    )
    if single:  # reading a single (real 15.70.2): two sentences in one message, no _error_message
        return FrappeError(
            403,
            "PermissionError",
            f"{denied}<br>User <strong>{user}</strong> does not have access to this document",
        )
    return FrappeError(403, "PermissionError", denied, error_message=f"No permission for {doctype}")


def fenced(user: str, doctype: str, name: str) -> FrappeError:
    """A record a User Permission keeps ``user`` from (real 15.70.2, read or write): one
    message of two sentences, no _error_message."""
    return FrappeError(
        403,
        "PermissionError",
        f"Not allowed for {doctype}: {name}<br>User <strong>{user}</strong> does not have "
        f"access to this document: {doctype} - {name}",
    )


def link_error(label: str, value: str) -> FrappeError:
    return FrappeError(417, "LinkValidationError", f"Could not find {label}: {value}")


def not_found(doctype: str, name: str) -> FrappeError:
    return FrappeError(404, "DoesNotExistError", f"{doctype} {name} not found")


def unique_error(
    doctype: str, name: str, field_label: str, value: str, fieldname: str
) -> FrappeError:
    # recorded/28, 32: 417, the message names the label, the exception the DB key.
    err = FrappeError(
        417,
        "UniqueValidationError",
        f"('{doctype}', '{name}', IntegrityError(1062, \"Duplicate entry '{value}' "
        f"for key '{fieldname}'\"))",
        show_message=False,
    )
    err.notes.append(server_message(f"{field_label} must be unique", fatal=False))
    return err


def duplicate_name(doctype: str, name: str) -> FrappeError:
    err = FrappeError(
        409,
        "DuplicateEntryError",
        f"('{doctype}', '{name}', IntegrityError(1062, \"Duplicate entry '{name}' for key "
        "'PRIMARY'\"))",
        show_message=False,
    )
    msg = server_message(f"{doctype} <strong>{name}</strong> already exists", "Duplicate Name")
    msg.pop("raise_exception")
    msg.pop("__frappe_exc_id")
    err.notes.append(msg)
    return err


def _label(fieldname: str) -> str:
    return " ".join(w.capitalize() for w in fieldname.split("_"))


def label(fieldname: str) -> str:
    return _label(fieldname)

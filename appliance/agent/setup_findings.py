"""What ``appliance erpnext setup`` found, step by step, and how a refused step is said.

Kept apart from the steps themselves so each group of steps (:mod:`appliance.agent.setup`,
:mod:`appliance.agent.fences`) reports the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from appliance.agent.client import ERPNextError, ErrorKind

T = TypeVar("T")
ADMINISTRATOR = "Administrator"


class Status(StrEnum):
    OK = "ok"
    CREATED = "created"
    UPDATED = "updated"
    MISSING = "missing"  # absent or different, and left so (--check), or not ours to fix


@dataclass(frozen=True)
class Finding:
    status: Status
    what: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.status.value:<8} {self.what}" + (f": {self.detail}" if self.detail else "")

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status.value, "what": self.what, "detail": self.detail}


@dataclass
class SetupReport:
    user: str  # the integration user the configured key belongs to
    check: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def missing(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.MISSING]

    @property
    def writes(self) -> int:
        return sum(f.status in (Status.CREATED, Status.UPDATED) for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "check": self.check,
            "ok": not self.missing,
            "writes": self.writes,
            "missing": len(self.missing),
            "findings": [f.as_dict() for f in self.findings],
        }


class SetupError(Exception):
    """ERPNext refused a step: ``<step>: HTTP 403 PermissionError: ...`` and what to do."""

    def __init__(self, step: str, error: ERPNextError) -> None:
        super().__init__(explain(step, error))
        self.error = error

    @property
    def kind(self) -> ErrorKind:
        return self.error.kind


_HINTS = {
    401: "check the API key and its secret file",
    403: "this key lacks the rights (System Manager): run it with an administrator's --admin-key",
}


def explain(step: str, error: ERPNextError) -> str:
    """One line: the step, ERPNext's answer, and what to do about it when that is clear."""
    hint = _HINTS.get(error.status or 0, "")
    return f"{step}: {error}" + (f" ({hint})" if hint else "")


def step(step: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ERPNextError as exc:
        raise SetupError(step, exc) from None

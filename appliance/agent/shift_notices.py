"""What ERPNext did with the shift's opening and closing, in words for the till, IT and support.

The push sends a POS Opening Entry and a POS Closing Entry like any document, but two answers need
more than the outbox can say (../shared/erpnext/README.md "Stock deployments"):

- a closing for 10 or more POS Invoices answers ``status: "Queued"``: ERPNext consolidates it in
  a background job that ends "Submitted" or "Failed" with an ``error_message``. The agent keeps
  such closings in ``agent.closings`` (``{name: {"offline_id", "status", "error_message",
  "since", "checked"}}``) and reads each again every cycle until it is Submitted
  (:mod:`appliance.agent.shifts`);
- ERPNext 16 allows one open opening per POS Profile and one per user: an opening refused for
  either is retried (the other shift may close); so is a closing ERPNext cannot queue because
  its scheduler is off (417 "Scheduler is inactive. Cannot enqueue job.", closing/CLOSING.md).
  The refusal is kept in ``agent.shift_refused`` (``{"offline_id", "doctype", "rule",
  "pos_profile", "user", "message", "since"}``) until that document goes through.

This module only reads those values (no HTTP client): the counter's status bar, ``appliance
status`` and ``appliance health`` name the problem with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CLOSINGS_KEY = "closings"
REFUSED_KEY = "shift_refused"
QUEUED, FAILED, SUBMITTED = "Queued", "Failed", "Submitted"
PROFILE_RULE = "profile"  # another opening is open on this POS Profile
USER_RULE = "user"  # this ERPNext user has an opening open on another POS Profile
SCHEDULER_RULE = "scheduler"  # a closing to queue, and ERPNext's scheduler is off
_RULES = {
    # v16 recorded 83 (title "POS Opening Entry Exists")
    PROFILE_RULE: "is open. Close the POS or cancel the existing POS Opening Entry",
    # README "Stock deployments" (title "Cannot Assign Cashier")
    USER_RULE: "Cashier is currently assigned to another POS",
    SCHEDULER_RULE: "Scheduler is inactive. Cannot enqueue job",
}
# A closing queued longer than this: ERPNext's background worker is probably not running.
QUEUED_TOO_LONG = 1800.0
CALL_IT = "call IT"


def refusal_rule(message: str) -> str | None:
    """Which rule refused a shift's document (ERPNext 16's one open shift per profile and per
    user, or the scheduler a queued closing needs), if one did."""
    return next((rule for rule, text in _RULES.items() if text in message), None)


@dataclass(frozen=True)
class ShiftProblem:
    short: str  # the till's status bar: a few words and whom to call
    text: str  # status, health and support: what happened, in ERPNext's words, and what to do
    needs_person: bool  # False while ERPNext is only still working on it

    def as_dict(self) -> dict[str, Any]:
        return {"short": self.short, "text": self.text, "needs_person": self.needs_person}


def _age(since: Any, now: datetime) -> float:
    try:
        at = datetime.fromisoformat(str(since))
    except ValueError:
        return 0.0
    return (now - (at if at.tzinfo else at.replace(tzinfo=UTC))).total_seconds()


def closings(agent_state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    value = agent_state.get(CLOSINGS_KEY)
    return (
        {str(k): v for k, v in value.items() if isinstance(v, dict)}
        if isinstance(value, dict)
        else {}
    )


def refused(agent_state: Mapping[str, Any]) -> dict[str, Any] | None:
    value = agent_state.get(REFUSED_KEY)
    return value if isinstance(value, dict) else None


def shift_problem(
    agent_state: Mapping[str, Any], now: datetime | None = None
) -> ShiftProblem | None:
    """The worst thing ERPNext says about this till's shifts, or None."""
    now = now or datetime.now(UTC)
    watched = closings(agent_state)
    for name, c in sorted(watched.items()):
        if c.get("status") == FAILED:
            return ShiftProblem(
                f"SHIFT CLOSE FAILED in ERPNext: {CALL_IT}",
                f"ERPNext could not finish closing the shift ({name}): "
                f"{str(c.get('error_message') or 'no reason given').rstrip('.')}. The sales are "
                "safe and in "
                "ERPNext. IT: put the cause right in ERPNext, then press Retry on POS Closing "
                f"Entry {name}; the till follows it until it is Submitted.",
                True,
            )
    queued = {n: c for n, c in watched.items() if c.get("status") == QUEUED}
    stuck = sorted(n for n, c in queued.items() if _age(c.get("since"), now) > QUEUED_TOO_LONG)
    refusal = refused(agent_state)
    if refusal is not None:
        own = bool(queued) and not stuck and refusal.get("rule") != SCHEDULER_RULE
        return _refusal(refusal, waiting_for_own_closing=own)
    if stuck:
        minutes = round(_age(queued[stuck[0]].get("since"), now) / 60)
        return ShiftProblem(
            f"shift close waiting in ERPNext: {CALL_IT}",
            f"ERPNext has queued the closing of the shift ({stuck[0]}) for {minutes} min and "
            "not consolidated it. IT: check that ERPNext's scheduler and background workers "
            "run (System Settings > Enable Scheduler; bench worker, queue long).",
            True,
        )
    return None


def _refusal(r: Mapping[str, Any], *, waiting_for_own_closing: bool) -> ShiftProblem:
    profile, user = r.get("pos_profile") or "?", r.get("user") or "?"
    if waiting_for_own_closing:
        return ShiftProblem(
            "shift waits for ERPNext to finish the last close",
            f"ERPNext refused this till's new shift on POS Profile {profile} while it is still "
            "consolidating the previous one (queued); it is sent again by itself. ERPNext said: "
            f"{r.get('message')}",
            False,
        )
    if r.get("rule") == SCHEDULER_RULE:
        return ShiftProblem(
            f"SHIFT CLOSE REFUSED by ERPNext: {CALL_IT}",
            "ERPNext cannot take the shift's closing: a closing of 10 or more POS Invoices is "
            "consolidated by its background worker, and its scheduler is off. The sales are "
            "safe and in ERPNext; the closing is sent again by itself. IT: enable the scheduler "
            "(System Settings > Enable Scheduler, or bench enable-scheduler) and check that a "
            f"worker runs (queue long). ERPNext said: {r.get('message')}",
            True,
        )
    if r.get("rule") == USER_RULE:
        why = (
            f"its ERPNext user {user} has a shift open on another till (ERPNext 16 allows one "
            "open shift per user)"
        )
        fix = (
            "give each till its own ERPNext user and API key (docs/operations.md, "
            "'Several tills in a branch'), or close that other shift in ERPNext"
        )
    else:
        why = (
            f"POS Profile {profile} has a shift open on another till (ERPNext 16 allows one open "
            "shift per POS Profile)"
        )
        fix = (
            "give each till its own POS Profile (docs/operations.md, 'Several tills in a "
            "branch'), or close that other shift in ERPNext"
        )
    return ShiftProblem(
        f"SHIFT REFUSED by ERPNext: {CALL_IT}",
        f"ERPNext refused this till's shift: {why}. Sales are kept on the till and sent once "
        f"the shift is accepted (retried by itself). IT: {fix}. ERPNext said: {r.get('message')}",
        True,
    )


def shift_section(agent_state: Mapping[str, Any]) -> dict[str, Any]:
    """``appliance status``'s view: followed closings, a refused opening, the problem."""
    problem = shift_problem(agent_state)
    return {
        "closings": [{"name": n, **c} for n, c in sorted(closings(agent_state).items())],
        "refused": refused(agent_state),
        "problem": problem.as_dict() if problem else None,
    }

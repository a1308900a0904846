"""Who did it, for the journal, when a person runs a command rather than using the till."""

from __future__ import annotations

import getpass


def cli_actor() -> str:
    """``cli:<login>``: the journal's actor for a command typed at a shell or run by Ansible."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry for this uid (containers)
        return "cli"

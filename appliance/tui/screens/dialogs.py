"""Small modal dialogs: ask for a value, pick from a list, get a supervisor's approval."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from appliance.counter.cashier import ApprovalRequest, CashierCard
from appliance.counter.door import Counter
from appliance.tui.context import Context


class PromptDialog(ModalScreen[str | None]):
    """One line of input. ``check`` returns an error message, or None when the value is fine."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]  # noqa: RUF012

    def __init__(
        self,
        title: str,
        label: str,
        value: str = "",
        *,
        check: Callable[[str], str | None] | None = None,
        password: bool = False,
    ) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.label = label
        self.value = value
        self.check = check
        self.password = password

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.title_text, classes="dialog-title")
            yield Label(self.label)
            yield Input(self.value, id="answer", password=self.password, select_on_focus=True)
            yield Static("Enter: OK   Esc: cancel", classes="dialog-error", id="error")

    @on(Input.Submitted, "#answer")
    def submitted(self, event: Input.Submitted) -> None:
        problem = self.check(event.value) if self.check else None
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[int | None]):
    """Pick one of a few entries (held carts, menu actions); returns its index."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]  # noqa: RUF012

    def __init__(self, title: str, entries: Sequence[str]) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.entries = list(entries)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.title_text, classes="dialog-title")
            yield OptionList(
                *[Option(e, id=str(n)) for n, e in enumerate(self.entries)], id="choices"
            )
            yield Static("Enter: choose   Esc: cancel", classes="dialog-hint")

    @on(OptionList.OptionSelected, "#choices")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)


class OverrideDialog(ModalScreen[CashierCard | None]):
    """A supervisor approves what the cashier's role does not allow: PIN and a reason.

    The approval (or each failed try) is journaled by the counter; the dialog returns the
    approving supervisor, or None if it was cancelled.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]  # noqa: RUF012

    def __init__(
        self, ctx: Context, action: str, what: str, detail: dict[str, Any], reason: str = ""
    ) -> None:
        super().__init__(classes="dialog")
        self.ctx = ctx
        self.action = action
        self.what = what
        self.detail = detail
        self.reason = reason  # offered, for the supervisor to confirm or change
        self.supervisors = [c for c in ctx.facts.cashiers if c.supervises]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(f"Supervisor approval: {self.what}", classes="dialog-title")
            yield OptionList(
                *[Option(c.full_name, id=c.user) for c in self.supervisors], id="supervisor"
            )
            yield Input(self.reason, placeholder="Reason", id="reason")
            yield Input(placeholder="Supervisor PIN", id="pin", password=True)
            yield Static("Enter: approve   Esc: cancel", classes="dialog-error", id="error")

    def on_mount(self) -> None:
        if not self.supervisors:
            self.query_one("#error", Static).update("No supervisor is set up on this till")
        self.query_one("#supervisor", OptionList).highlighted = 0
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def reason_given(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def pin_given(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#error", Static).update("Give a reason: it goes in the journal")
            self.query_one("#reason", Input).focus()
            return
        index = self.query_one("#supervisor", OptionList).highlighted
        if index is None or not self.supervisors:
            return
        self.approve(self.supervisors[index].user, self.query_one("#pin", Input).value, reason)

    @work(exclusive=True, group="approve")
    async def approve(self, supervisor: str, pin: str, reason: str) -> None:
        request = ApprovalRequest(self.ctx.user, self.action, reason, self.detail)
        result = await self.ctx.backend.run(Counter.approve, supervisor, pin, request)
        if result.ok:
            self.dismiss(result.cashier)
            return
        self.query_one("#error", Static).update(result.message)
        pin_input = self.query_one("#pin", Input)
        pin_input.value = ""
        pin_input.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

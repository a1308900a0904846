"""Sign-in: pick your name, key your PIN. Also the lock screen, which keeps the sale underneath."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from appliance.counter.cashier import CashierCard, pin_prompt, row_label
from appliance.demo.cashiers import DEMO_CASHIERS
from appliance.tui.context import Context
from appliance.tui.messages import SignedIn
from appliance.tui.widgets.status_bar import ProvisioningNotice, StatusBar

# Said for IT where the till starts: the image's vault-setup found no TPM 2.0.
NO_TPM = (
    "For IT - NO TPM2: this till's data (sales, customers, the ERPNext key) is not protected "
    "against a stolen disk or till. Tills holding real data need a TPM 2.0 (image/README.md)."
)


CHOOSE = "Choose your name (Up/Down), Enter, then your PIN and Enter."


class SignInScreen(Screen[None]):
    """``locked_by``: the cashier whose sale waits underneath (the lock screen).

    Only that cashier or a supervisor can unlock it; anyone listed can sign in otherwise.
    """

    scan_refusal = "Sign in first - scan not added"
    # From the PIN box back to the names (the list itself takes Up/Down while it has focus).
    BINDINGS: ClassVar[list[BindingType]] = [Binding("up", "names", show=False)]

    def __init__(self, ctx: Context, locked_by: CashierCard | None = None) -> None:
        super().__init__(classes="sign-in")
        self.ctx = ctx
        self.locked_by = locked_by
        self.chosen: CashierCard | None = None  # whose PIN is being typed
        self.signed_in = False  # someone signed in here: who it was is forgotten on return

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Center(), Vertical(id="sign-in-box"):
            if self.locked_by:
                title = f"LOCKED - {self.locked_by.full_name}'s sale is kept"
            else:
                title = f"Terminal {self.ctx.facts.terminal_id} - sign in"
            yield Static(title, id="sign-in-title")
            yield OptionList(
                *[Option(row_label(c, marked=False), id=c.user) for c in self.allowed()],
                id="cashiers",
            )
            yield Input(
                placeholder="PIN",
                password=True,
                id="pin",
                restrict=r"\d*",
                max_length=12,
                disabled=True,  # until a name is chosen: a PIN is always someone's
            )
            yield Static(CHOOSE, id="sign-in-message")
            yield ProvisioningNotice(id="provisioning-notice")
            if self.ctx.vault_notice is not None and self.ctx.vault_notice.exists():
                yield Static(NO_TPM, id="vault-notice")
            if self.ctx.demo:
                pins = ", ".join(f"{d.full_name} {d.pin} ({d.role.value})" for d in DEMO_CASHIERS)
                yield Static(f"DEMO PINs: {pins}", id="demo-pins")
        yield Footer()

    def allowed(self) -> list[CashierCard]:
        everyone = list(self.ctx.facts.cashiers)
        if self.locked_by is None:
            return everyone
        return [c for c in everyone if c.user == self.locked_by.user or c.supervises]

    def on_mount(self) -> None:
        cashiers = self.query_one("#cashiers", OptionList)
        cashiers.highlighted = 0  # a till just started: the first name, marked, not chosen
        cashiers.focus()

    def on_screen_resume(self) -> None:
        # Back after a sign-out: nobody is pre-selected, nobody is welcome any more.
        if self.signed_in:
            self.signed_in = False
            self._choose(None)
            cashiers = self.query_one("#cashiers", OptionList)
            cashiers.highlighted = None
            self._mark(None)
            cashiers.focus()

    def action_names(self) -> None:
        self.query_one("#cashiers", OptionList).focus()

    def _mark(self, marked: int | None) -> None:
        # The highlight is a colour the console (TERM=linux, 8 colours) may not show: a marker.
        cashiers = self.query_one("#cashiers", OptionList)
        for index, card in enumerate(self.allowed()):
            cashiers.replace_option_prompt_at_index(index, row_label(card, marked=index == marked))

    @on(OptionList.OptionHighlighted, "#cashiers")
    def cashier_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._mark(event.option_index)
        if self.chosen is not None and self.chosen.user != event.option.id:
            self._choose(None)

    @on(OptionList.OptionSelected, "#cashiers")
    def cashier_chosen(self, event: OptionList.OptionSelected) -> None:
        self._choose(self.allowed()[event.option_index])

    def _choose(self, who: CashierCard | None) -> None:
        """Whose PIN the box takes: said in the box and under it, never guessed from a row."""
        self.chosen = who
        pin = self.query_one("#pin", Input)
        pin.value = ""
        pin.disabled = who is None
        pin.placeholder = pin_prompt(who) if who else "PIN"
        message = self.query_one("#sign-in-message", Static)
        message.update(f"{pin_prompt(who)}, then Enter (Up: another name)" if who else CHOOSE)
        if who is not None:
            pin.focus()

    @on(Input.Submitted, "#pin")
    def pin_entered(self, event: Input.Submitted) -> None:
        if self.chosen is None or not event.value:
            return
        self.check_pin(self.chosen, event.value)

    @work(exclusive=True, group="sign-in")
    async def check_pin(self, who: CashierCard, pin: str) -> None:
        message = self.query_one("#sign-in-message", Static)
        message.update("Checking...")
        pin_box = self.query_one("#pin", Input)
        user = who.user
        # A lambda, not `Counter.sign_in`: the counter's module loads behind this screen.
        result = await self.ctx.backend.run(lambda counter: counter.sign_in(user, pin))
        pin_box.value = ""
        if not result.ok or result.cashier is None:
            message.update(f"{result.message}. {pin_prompt(who)}")
            pin_box.focus()
            return
        message.update(result.message)
        self.signed_in = True
        self.post_message(SignedIn(result.cashier, unlocked=self.locked_by is not None))

"""Sign-in: pick your name, key your PIN. Also the lock screen, which keeps the sale underneath."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from appliance.counter.cashier import CashierCard
from appliance.demo.cashiers import DEMO_CASHIERS
from appliance.tui.context import Context
from appliance.tui.messages import SignedIn
from appliance.tui.widgets.status_bar import ProvisioningNotice, StatusBar

# Said for IT where the till starts: the image's vault-setup found no TPM 2.0.
NO_TPM = (
    "For IT - NO TPM2: this till's data (sales, customers, the ERPNext key) is not protected "
    "against a stolen disk or till. Tills holding real data need a TPM 2.0 (image/README.md)."
)


class SignInScreen(Screen[None]):
    """``locked_by``: the cashier whose sale waits underneath (the lock screen).

    Only that cashier or a supervisor can unlock it; anyone listed can sign in otherwise.
    """

    scan_refusal = "Sign in first - scan not added"

    def __init__(self, ctx: Context, locked_by: CashierCard | None = None) -> None:
        super().__init__(classes="sign-in")
        self.ctx = ctx
        self.locked_by = locked_by

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Center(), Vertical(id="sign-in-box"):
            if self.locked_by:
                title = f"LOCKED - {self.locked_by.full_name}'s sale is kept"
            else:
                title = f"Terminal {self.ctx.facts.terminal_id} - sign in"
            yield Static(title, id="sign-in-title")
            yield OptionList(
                *[Option(f"{c.full_name}  ({c.role.value})", id=c.user) for c in self.allowed()],
                id="cashiers",
            )
            yield Input(placeholder="PIN", password=True, id="pin", restrict=r"\d*", max_length=12)
            yield Static("Choose your name, Enter, then your PIN and Enter.", id="sign-in-message")
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
        cashiers.highlighted = 0
        cashiers.focus()

    @on(OptionList.OptionSelected, "#cashiers")
    def cashier_chosen(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def pin_entered(self, event: Input.Submitted) -> None:
        index = self.query_one("#cashiers", OptionList).highlighted
        if index is None or not event.value:
            return
        self.check_pin(self.allowed()[index], event.value)

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
            message.update(result.message)
            pin_box.focus()
            return
        message.update(result.message)
        self.post_message(SignedIn(result.cashier, unlocked=self.locked_by is not None))

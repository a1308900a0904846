"""Taking payment: cash with quick tenders and change, the profile's other modes, split freely,
and a customer's loyalty points as part payment (F10: the points typed, or as many as fit).

The sale is committed the moment the payments cover it (in a worker, on the backend's
thread); only then does the drawer open and the receipt print. A printer failure leaves the
sale committed and offers a reprint.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from appliance.counter import carts
from appliance.counter.carts import Cart, CartError, PaymentLine, PaymentMode
from appliance.counter.door import Counter
from appliance.counter.loyalty import LoyaltyAccount
from appliance.counter.selling import SaleDone
from appliance.counter.store_credit import StoreCredit
from appliance.counter.typed_numbers import TypedNumberError, tender_needs_confirming
from appliance.drivers.display import payment_lines
from appliance.tui import heap
from appliance.tui.context import Context
from appliance.tui.failures import failure
from appliance.tui.format import money, read_amount
from appliance.tui.screens.after_sale import hand_over
from appliance.tui.screens.counter_screen import CounterScreen
from appliance.tui.screens.reprint import reprint
from appliance.tui.widgets.status_bar import StatusBar

MODE_KEYS = ("f2", "f3", "f4", "f5", "f6")
QUICK_KEYS = ("f8", "f9", "f11")
NOTES = (Decimal(5), Decimal(10), Decimal(20), Decimal(50), Decimal(100))


@dataclass(frozen=True)
class PayResult:
    offline_id: str
    receipt_no: str
    change: Decimal
    printed: bool


def quick_tenders(remaining: Decimal, count: int = 3) -> list[Decimal]:
    """The next banknote amounts above what is left: 12.35 -> 15, 20, 50."""
    out: list[Decimal] = []
    if remaining <= 0:
        return out  # paid (or change due): nothing left to tender
    for note in NOTES:
        amount = (remaining / note).to_integral_value(ROUND_CEILING) * note
        if amount > remaining and amount not in out:
            out.append(amount)
    return out[:count]


class PayScreen(CounterScreen[PayResult | None]):
    scan_refusal = "Finish the payment first - scan not added"
    BINDINGS = [  # noqa: RUF012
        *[Binding(k, f"tender({n})", f"Mode {n + 1}", show=False) for n, k in enumerate(MODE_KEYS)],
        Binding("f7", "exact", "Exact cash"),
        Binding("f10", "points", "Points"),
        *[Binding(k, f"quick({n})", show=False) for n, k in enumerate(QUICK_KEYS)],
        Binding("f12", "reprint", "Reprint"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, ctx: Context, cart: Cart) -> None:
        super().__init__(classes="pay")
        self.ctx = ctx
        self.cart = cart
        self.modes: tuple[PaymentMode, ...] = ctx.facts.modes[: len(MODE_KEYS)]
        self.result: PayResult | None = None
        self.committing = False
        self.unconfirmed: tuple[str, Decimal] | None = None  # a large tender awaiting its Enter
        self.account: LoyaltyAccount | None = None  # the customer's points, if they collect any
        self.credit: StoreCredit | None = None  # the customer's store credit, if modes take it

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="pay-box"):
            yield Static(id="pay-summary")
            yield Static(id="pay-keys")
            yield Input(placeholder="Amount (empty: what is left)", id="amount")
            yield Static(id="pay-lines")
            yield Static("", id="pay-message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_view()
        self.query_one("#amount", Input).focus()
        if self.cart.customer and not self.cart.is_return:
            self.load_account()

    @work(exclusive=True, group="points")
    async def load_account(self) -> None:
        try:
            self.account = await self.ctx.backend.run(Counter.loyalty, self.cart.customer)
            self.credit = await self.ctx.backend.run(Counter.store_credit, self.cart.customer)
            self.refresh_bindings()
        except Exception as exc:  # the sale goes on without points
            why = failure(exc).why
            self.say(f"The customer's points could not be read: {why}", error=True)
            return
        self.refresh_view()

    # -- view ---------------------------------------------------------------------------------
    def refresh_view(self) -> None:
        cart = self.cart
        grid = Table.grid(expand=False, padding=(0, 2))
        grid.add_column()
        grid.add_column(justify="right", min_width=12)
        grid.add_row("[b]Amount due[/b]", f"[b]{money(cart.amount_due)}[/b]")
        grid.add_row("Paid", money(cart.paid))
        if cart.remaining > 0:
            grid.add_row("[b]Left to pay[/b]", f"[b]{money(cart.remaining)}[/b]")
        else:
            grid.add_row("[b]CHANGE[/b]", f"[b reverse] {money(-cart.remaining)} [/b reverse]")
        if self.credit is not None:
            grid.add_row("Store credit", money(self.credit.available - self.credit_tendered()))
        if self.account is not None:
            left = self.account.available - cart.loyalty_points
            grid.add_row(f"Points ({self.account.program})", f"{left} left")
        self.query_one("#pay-summary", Static).update(grid)
        keys = "  ".join(
            f"{k.upper()} {m.mode_of_payment}" for k, m in zip(MODE_KEYS, self.modes, strict=False)
        )
        quick = "  ".join(
            f"{k.upper()} {money(a)}"
            for k, a in zip(QUICK_KEYS, quick_tenders(cart.remaining), strict=False)
        )
        cash = self.ctx.facts.cash_mode
        points = "  F10 points (typed, or as many as fit)" if self.account is not None else ""
        self.query_one("#pay-keys", Static).update(
            f"{keys}\nF7 exact {cash}  {quick}{points}\nEnter: {cash} for the amount typed"
        )
        rows = [(p.mode_of_payment, p.amount) for p in cart.payments]
        if cart.loyalty_points:
            rows.insert(0, (f"{cart.loyalty_points} points", cart.loyalty_amount))
        lines = "\n".join(f"  {name:<16}{money(amount):>12}" for name, amount in rows)
        self.query_one("#pay-lines", Static).update(lines or "  (no payment yet)")

    def say(self, text: str, *, error: bool = False) -> None:
        self.tell("#pay-message", text, error=error)

    # -- tendering ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "tender" and parameters:
            return int(str(parameters[0])) < len(self.modes)
        if action == "points":
            return self.account is not None  # only for a customer who collects points
        return True

    def typed_amount(self) -> Decimal | None:
        box = self.query_one("#amount", Input)
        if not box.value.strip():
            return self.cart.remaining
        try:
            value = read_amount(box.value, self.ctx.facts.number_style)
        except TypedNumberError as exc:
            self.say(f"{exc}. Nothing was taken.", error=True)
            return None
        if value <= 0:
            self.say("Type an amount, or leave it empty for what is left", error=True)
            return None
        return value

    def confirmed(self, mode: PaymentMode, amount: Decimal) -> bool:
        """A tender far above what is due is taken on the second Enter for the same amount."""
        if mode.type != "Cash" or not tender_needs_confirming(amount, self.cart.remaining):
            return True
        if self.unconfirmed == (mode.mode_of_payment, amount):
            return True
        self.unconfirmed = (mode.mode_of_payment, amount)
        self.say(
            f"{money(amount)} for {money(self.cart.remaining)} due? Change would be "
            f"{money(amount - self.cart.remaining)}. Enter again to take it, or correct the "
            "amount",
            error=True,
        )
        return False

    def credit_tendered(self) -> Decimal:
        modes = self.ctx.facts.store_credit_modes
        return sum((p.amount for p in self.cart.payments if p.mode_of_payment in modes), Decimal(0))

    def mode(self, name: str) -> PaymentMode:
        return self.ctx.facts.mode(name)

    def pay(self, mode: PaymentMode, amount: Decimal) -> None:
        if self.result is not None or self.committing:
            if self.result is not None:
                self.dismiss(self.result)
            return
        if self.cart.is_fully_paid:  # paid, but the save failed: any tender key tries again
            self.commit()
            return
        if amount <= 0:
            self.say("Nothing left to pay", error=True)
            return
        if mode.type != "Cash" and amount > self.cart.remaining:
            self.say(f"{mode.mode_of_payment} cannot take more than what is left", error=True)
            return
        if mode.mode_of_payment in self.ctx.facts.store_credit_modes:
            left = self.credit.available - self.credit_tendered() if self.credit else None
            if left is None or amount > left:
                self.say(
                    f"{mode.mode_of_payment}: "
                    + (
                        f"the customer has {money(left)} of store credit"
                        if left is not None
                        else "store credit is the customer's: choose the customer first"
                    ),
                    error=True,
                )
                return
        if not self.confirmed(mode, amount):
            return
        self.unconfirmed = None
        try:
            self.cart = carts.add_payment(
                self.cart,
                PaymentLine(mode.mode_of_payment, amount, mode.type, mode.account or None),
            )
        except CartError as exc:
            self.say(str(exc), error=True)
            return
        self.query_one("#amount", Input).value = ""
        self.refresh_view()
        if self.cart.is_fully_paid:
            self.commit()
        else:
            self.say(
                f"{mode.mode_of_payment} {money(amount)} taken; {money(self.cart.remaining)} left"
            )

    def action_tender(self, index: int) -> None:
        amount = self.typed_amount()
        if amount is not None and index < len(self.modes):
            self.pay(self.modes[index], amount)

    @work(exclusive=True, group="points")
    async def action_points(self) -> None:
        if self.account is None or self.result is not None or self.committing:
            return
        box = self.query_one("#amount", Input)
        typed = box.value.strip()
        if typed and not typed.isdigit():
            self.say(
                "Type a whole number of points, or leave it empty for as many as fit", error=True
            )
            return
        try:
            self.cart = await self.ctx.backend.run(
                Counter.redeem_points, self.cart, int(typed) if typed else None
            )
        except CartError as exc:
            self.say(f"{exc}. No points were taken.", error=True)
            return
        box.value = ""
        self.refresh_view()
        self.say(
            f"{self.cart.loyalty_points} points take {money(self.cart.loyalty_amount)}; "
            f"{money(self.cart.remaining)} left"
        )

    def action_exact(self) -> None:
        self.query_one("#amount", Input).value = ""
        self.pay(self.mode(self.ctx.facts.cash_mode), self.cart.remaining)

    def action_quick(self, index: int) -> None:
        amounts = quick_tenders(self.cart.remaining)
        if index < len(amounts):
            self.pay(self.mode(self.ctx.facts.cash_mode), amounts[index])

    @on(Input.Submitted, "#amount")
    def amount_entered(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)
            return
        if self.committing:
            return
        if self.cart.is_fully_paid:  # paid, but the save failed: Enter tries again
            self.commit()
            return
        amount = self.typed_amount()
        if amount is not None:
            self.pay(self.mode(self.ctx.facts.cash_mode), amount)

    def action_back(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)
        elif not self.committing:
            self.dismiss(None)

    # -- commit, drawer, receipt --------------------------------------------------------------
    @work(exclusive=True, group="commit")
    async def commit(self) -> None:
        self.committing = True
        self.say("Saving the sale...")
        backend = self.ctx.backend
        try:
            done = await backend.run(Counter.commit, self.cart, self.ctx.user)
        except Exception as exc:
            self.committing = False
            problem = failure(exc)
            if problem.refused:
                # The cart itself is refused, nothing was written: take the payments back.
                self.cart = carts.clear_payments(self.cart)
                self.refresh_view()
                self.say(f"Not saved: {problem.why}", error=True)
                return
            # The till failed (disk, database): nothing was written, and the paid cart stays
            # as it is. The retry commits the same sale id, so it can never be saved twice.
            self.say(
                problem.sentence("The sale could not be saved", "press Enter to try again"),
                error=True,
            )
            return
        self.result = PayResult(done.offline_id, done.receipt_no, done.change, printed=False)
        self.committing = False
        self.say(f"Sale {done.receipt_no} saved. Enter: next customer")
        self.app.call_after_refresh(heap.collect_if_due)  # no scans here: a quiet moment
        # The cashier may press Enter for the next customer at once: the display, drawer and
        # receipt belong to the sale, not to this screen, and must not end with it.
        self.run_on_app(self.after_sale(done), group="after-sale")

    async def after_sale(self, done: SaleDone) -> None:
        lines = payment_lines(done.amount_due, done.change)
        _, problems = await asyncio.gather(
            asyncio.to_thread(self.ctx.devices.show_on_display, *lines),
            hand_over(self.ctx.devices, done),
        )
        if self.result is not None and not any(p.startswith("receipt") for p in problems):
            self.result = PayResult(
                self.result.offline_id, self.result.receipt_no, self.result.change, True
            )
        text = f"Sale {self.result_no} saved. Enter: next customer"
        if problems:
            self.say(f"{text}. " + "; ".join(problems), error=True)
        else:
            self.say(text)

    @property
    def result_no(self) -> str:
        return self.result.receipt_no if self.result else ""

    @work(exclusive=True, group="commit")
    async def action_reprint(self) -> None:
        if self.result is None:
            return
        text, failed = await reprint(self.ctx, self.result.offline_id, copy=self.result.printed)
        if failed:
            self.say(text, error=True)
            return
        self.result = PayResult(
            self.result.offline_id, self.result.receipt_no, self.result.change, True
        )
        self.say(f"{text}. Enter: next customer")

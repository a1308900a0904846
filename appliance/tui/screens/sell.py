"""The sell screen: scan or search, adjust lines, pick the customer, hold and recall, then pay.

Every cart change goes through `SellScreen.change`, one at a time (a lock), so two scans in
quick succession both land, in order, on the latest cart. Catalog work runs on the backend's
thread; the pure cart operations run inline (they take microseconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from appliance.counter import carts
from appliance.counter.carts import Cart, CatalogItem, DiscountOn, TaxExemption, Till
from appliance.counter.clock import store_local
from appliance.counter.door import Counter
from appliance.counter.offers import CouponVerdict, approval_request
from appliance.counter.policy import Action, may
from appliance.counter.quick_keys import QuickItem
from appliance.counter.selling import NO_SALE
from appliance.counter.typed_numbers import NumberStyle, TypedNumberError
from appliance.drivers.display import idle_lines, selling_lines
from appliance.tui.context import Context
from appliance.tui.failures import failure
from appliance.tui.format import money, parse_amount, qty, read_amount
from appliance.tui.messages import LockNow, Scanned, SignOut
from appliance.tui.screens.counter_screen import CounterScreen
from appliance.tui.screens.customer import CustomerDialog
from appliance.tui.screens.dialogs import ChoiceDialog, OverrideDialog, PromptDialog
from appliance.tui.screens.journal import JournalScreen
from appliance.tui.screens.pay import PayResult, PayScreen
from appliance.tui.screens.price_check import PriceCheckDialog
from appliance.tui.screens.quick_keys import QuickKeysScreen
from appliance.tui.screens.reprint import reprint
from appliance.tui.screens.returns import ReturnScreen
from appliance.tui.screens.shift import CloseShiftScreen, ReportDialog
from appliance.tui.screens.supervisor import SupervisorScreen
from appliance.tui.widgets.cart_table import CartTable
from appliance.tui.widgets.status_bar import StatusBar
from appliance.tui.widgets.totals_panel import TotalsPanel

CartChange = Callable[[Cart], Cart]
TillChange = Callable[[Till, Cart], Cart]  # needs the catalog: runs on the store's thread
CounterChange = Callable[[Counter, Cart], Cart]  # needs the store: runs on the store's thread
MENU = (
    ("X report", "x_report"),
    ("Find a receipt (Ctrl+F)", "journal"),
    ("Price check (Ctrl+T)", "price_check"),
    ("Quick keys (Ctrl+G)", "quick_keys"),
    ("This sale: coupon, sales person, note, unit...", "sale_details"),
    ("Return / refund", "returns"),
    ("Reprint last receipt", "reprint"),
    ("No sale (open drawer)", "no_sale"),
    ("Close shift (Z report)", "close_shift"),
    ("Lock the till", "lock"),
    ("Sign out", "sign_out"),
    ("Supervisor...", "supervisor"),
)
# The sale's own details, one entry in MENU: the whole menu still fits a 25-row console.
SALE_MENU = (
    ("Coupon code", "coupon"),
    ("Sales person", "sales_person"),
    ("Note on the sale", "note"),
    ("Unit of the line (case, pack)", "unit"),
)


def _number_check(
    style: NumberStyle, low: Decimal, high: Decimal | None = None, *, suffix: str = ""
) -> Callable[[str], str | None]:
    """A prompt's check: the number read as the store writes numbers, within bounds."""

    def check(text: str) -> str | None:
        try:
            value = read_amount(text.strip().removesuffix(suffix), style)
        except TypedNumberError as exc:
            return str(exc)
        if value < low or (high is not None and value > high):
            return f"Between {low} and {high}" if high is not None else f"At least {low}"
        return None

    return check


def _give_number(serial: bool, line_id: int, typed: str) -> CounterChange:
    """The serial or the batch the cashier gave, put on the line (checked by the counter)."""

    def give(counter: Counter, cart: Cart) -> Cart:
        if serial:
            return counter.give_serial(cart, line_id, typed)
        return counter.give_batch(cart, line_id, typed)

    return give


class SellScreen(CounterScreen[None]):
    accepts_scans = True  # the app delivers keyboard-wedge scans here as `Scanned`
    BINDINGS = [  # noqa: RUF012
        Binding("f2", "quantity", "Qty"),
        Binding("f3", "line_discount", "Dsc"),
        Binding("f4", "price", "Prc"),
        Binding("f5", "customer", "Cus"),
        Binding("f6", "hold", "Hold"),
        Binding("f7", "recall", "Rcl"),
        Binding("f8", "remove_line", "Del"),
        Binding("f9", "void", "Vd"),
        Binding("f10", "pay", "Pay"),
        Binding("f11", "cart_discount", "C%"),
        Binding("f12", "menu", "Menu"),
        Binding("ctrl+r", "returns", "Return", show=False),
        Binding("ctrl+f", "journal", "Find", show=False),
        Binding("ctrl+t", "price_check", "Price", show=False),
        Binding("ctrl+g", "quick_keys", "Keys", show=False),
        Binding("ctrl+l", "lock", "Lock", show=False),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("escape", "clear_search", show=False),
    ]

    def __init__(self, ctx: Context, cart: Cart) -> None:
        super().__init__(classes="sell")
        self.ctx = ctx
        self._counter = carts.Counter(active=cart)
        self._lock = asyncio.Lock()
        self._results: tuple[CatalogItem, ...] = ()
        self.customer_names: dict[str, str] = {}
        self.last_sale: str | None = None

    @property
    def counter(self) -> carts.Counter:
        return self._counter

    @counter.setter
    def counter(self, value: carts.Counter) -> None:
        self._counter = value
        if self.ctx.activity is not None:
            # Parked carts do not count: they are in the store, and a restart recalls them.
            self.ctx.activity.update(len(value.active.lines), value.active.paid)

    @property
    def cart(self) -> Cart:
        return self.counter.active

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(id="sell-main"):
            with Vertical(id="cart-side"):
                yield CartTable(id="cart")
                yield OptionList(id="results")
            yield TotalsPanel(id="totals")
        yield Input(placeholder="Scan, or type to search name / code / barcode", id="search")
        yield Static("", id="message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#results", OptionList).display = False
        self.query_one("#search", Input).focus()
        self.show_cart()
        self.to_display()
        self.load_held()

    @work(group="cart")
    async def load_held(self) -> None:
        """Sales held before a restart (or by the cashier before) are there to recall."""
        backend = self.ctx.backend
        held = await backend.run(Counter.held_carts)
        if not held:
            return
        async with self._lock:
            self.counter = carts.Counter(active=self.cart, held=held)
        self.say(f"{len(held)} held sale(s) waiting: F7 recalls")

    def on_screen_resume(self) -> None:
        self.query_one("#search", Input).focus()

    def say(self, text: str, *, error: bool = False) -> None:
        self.tell("#message", text, error=error)

    def show_cart(self, *, follow: bool = False) -> None:
        cart = self.cart
        self.query_one(CartTable).show(cart, follow=follow)
        totals = self.query_one(TotalsPanel)
        totals.cart = cart
        totals.customer_label = self.customer_label(cart.customer)
        totals.refresh()

    def customer_label(self, name: str | None) -> str:
        if not name:
            return ""
        return self.customer_names.get(name, name)

    # -- changing the cart --------------------------------------------------------------------
    async def change(
        self,
        op: CartChange | None = None,
        *,
        at_till: TillChange | None = None,
        at_counter: CounterChange | None = None,
        follow: bool = False,
        what: str = "Not changed",
    ) -> bool:
        """Apply one change to the latest cart; a refusal or a failure is shown, not raised.

        Whatever fails (a refusal, the store, a price no amount can hold), the cart stays as
        it was: it is only replaced by the result of a change that worked.
        """
        async with self._lock:
            before = self.cart
            try:
                if at_till is not None:
                    change_at_till = at_till
                    after = await self.ctx.backend.run(
                        Counter.on_till, lambda till: change_at_till(till, before)
                    )
                elif at_counter is not None:
                    after = await self.ctx.backend.run(at_counter, before)
                else:
                    assert op is not None, "a change to the cart, or one at the till"
                    after = op(before)
            except Exception as exc:
                self.say(failure(exc).sentence(what, "try again"), error=True)
                return False
            if self.gone:
                return False  # signed out meanwhile: this cart is no longer on a screen
            self.counter = carts.Counter(active=after, held=self.counter.held)
            self.show_cart(follow=follow)
            self.to_display()
            return True

    def to_display(self) -> None:
        """The customer display: a welcome when idle, else the last line and the running total."""
        cart = self.cart
        if cart.totals is None:
            store = self.ctx.facts.company
            line1, line2 = idle_lines(("Welcome to", store))
        else:
            last = cart.totals.items[-1]
            line1, line2 = selling_lines(cart.lines[-1].item_name, last.amount, cart.amount_due)
        self.run_worker(
            asyncio.to_thread(self.ctx.devices.show_on_display, line1, line2), group="display"
        )

    def selected(self) -> int | None:
        line = self.query_one(CartTable).selected_line
        if line is None:
            self.say("The cart is empty", error=True)
        return line

    async def approved(self, action: str, what: str, detail: dict[str, Any]) -> bool:
        """True if the cashier may, or a supervisor approved (journaled as an override)."""
        approver = await self.app.push_screen_wait(OverrideDialog(self.ctx, action, what, detail))
        if approver is None:
            self.say("Not approved", error=True)
            return False
        self.say(f"Approved by {approver.full_name}")
        return True

    # -- scanning and searching ---------------------------------------------------------------
    def on_scanned(self, message: Scanned) -> None:
        self.scan(message.code)

    @work(group="cart")
    async def scan(self, code: str) -> None:
        scanned = await self.change(
            at_till=lambda till, cart: till.scan(cart, code), follow=True, what="Scan not added"
        )
        if scanned:
            line = self.cart.lines[-1]
            self.say(f"{line.item_name}  {qty(line.qty)} x {money(line.base_rate)}")
            await self.ask_number_of(line.line_id)

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(exclusive=True, group="search")
    async def search(self, text: str) -> None:
        results = self.query_one("#results", OptionList)
        if not text.strip():  # one character is a search too: "7", like ERPNext's POS
            self._results = ()
            results.display = False
            return
        backend = self.ctx.backend
        found = await backend.run(Counter.search_items, text, 8)
        if self.query_one("#search", Input).value != text:
            return  # typed on meanwhile: a newer search is on its way
        self._results = found
        results.clear_options()
        results.add_options(
            [Option(f"{i.item_name[:40]}  {i.item_code}", id=i.item_code) for i in found]
        )
        results.display = bool(found)
        if found:
            results.highlighted = 0

    @on(Input.Submitted, "#search")
    def search_submitted(self, event: Input.Submitted) -> None:
        results = self.query_one("#results", OptionList)
        text = event.value.strip()
        index = results.highlighted if results.display and self._results else None
        chosen = self._results[index] if index is not None else None
        self.clear_search()
        if chosen is not None:
            self.add_item(chosen)
        elif text:
            self.scan(text)  # a code keyed by hand

    def clear_search(self) -> None:
        self.query_one("#search", Input).value = ""
        self._results = ()
        self.query_one("#results", OptionList).display = False

    def action_clear_search(self) -> None:
        self.clear_search()

    @work(group="cart")
    async def add_item(self, item: CatalogItem | QuickItem) -> None:
        amount = Decimal(1)
        if item.is_weighed:
            weight = await asyncio.to_thread(self.ctx.devices.read_weight)
            if weight is None or weight <= 0:
                typed = await self.app.push_screen_wait(
                    PromptDialog(
                        f"Weigh {item.item_name}",
                        "No weight from the scale: key the weight (kg)",
                        check=_number_check(self.ctx.facts.number_style, Decimal("0.001")),
                    )
                )
                if typed is None:
                    return
                weight = parse_amount(typed, self.ctx.facts.number_style)
            assert weight is not None
            amount = weight
        code = item.item_code
        if await self.change(
            at_till=lambda till, cart: till.add_item(cart, code, amount), follow=True
        ):
            self.say(f"{item.item_name}  {qty(amount)}")
            await self.ask_number_of(self.cart.lines[-1].line_id)

    def action_cursor(self, step: int) -> None:
        results = self.query_one("#results", OptionList)
        if results.display:
            if step > 0:
                results.action_cursor_down()
            else:
                results.action_cursor_up()
            return
        table = self.query_one(CartTable)
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    # -- serial numbers and batches -----------------------------------------------------------
    async def ask_number_of(self, line_id: int) -> None:
        """Ask for the serial (scanned) or the batch (chosen) a new line needs, until one is
        taken; backing out takes the line off: the item is sold only with its number."""
        if not self.cart.line(line_id).missing_number:
            return
        while (line := self.cart.line(line_id)).missing_number:
            serial = line.has_serial_no and not line.serial_no
            typed = await (self.ask_serial(line.item_name) if serial else self.ask_batch(line))
            if typed is None:
                await self.change(lambda cart: carts.remove_line(cart, line_id))
                self.say(f"{line.item_name} taken off: it is sold only with its number", error=True)
                return
            await self.change(at_counter=_give_number(serial, line_id, typed), what="Not taken")
        self.say(f"{line.item_name}  {line.serial_no or line.batch_no}")

    async def ask_serial(self, name: str) -> str | None:
        return await self.app.push_screen_wait(
            PromptDialog(f"Serial number: {name}", "Scan the number on the item")
        )

    async def ask_batch(self, line: carts.CartLine) -> str | None:
        batches = await self.ctx.backend.run(Counter.batches, line.item_code)
        if not batches:
            return None
        index = await self.app.push_screen_wait(
            ChoiceDialog(f"Batch: {line.item_name}", list(batches))
        )
        return None if index is None else batches[index]

    # -- line changes -------------------------------------------------------------------------
    async def ask_number(
        self, title: str, label: str, start: str, check: Callable[[str], str | None]
    ) -> Decimal | None:
        """Prompt for one number; None when the cashier backs out."""
        typed = await self.app.push_screen_wait(PromptDialog(title, label, start, check=check))
        return parse_amount(typed or "", self.ctx.facts.number_style)

    @work(group="cart")
    async def action_quantity(self) -> None:
        line_id = self.selected()
        if line_id is None:
            return
        line = self.cart.line(line_id)
        start = qty(line.qty)
        if line.is_weighed:
            weight = await asyncio.to_thread(self.ctx.devices.read_weight)
            start = qty(weight) if weight else start
        value = await self.ask_number(
            f"Quantity: {line.item_name}",
            "New quantity" + (" (kg, from the scale)" if line.is_weighed else ""),
            start,
            _number_check(self.ctx.facts.number_style, Decimal("0.001"), Decimal(9999)),
        )
        if value is None:
            return
        await self.change(at_till=lambda till, cart: till.set_qty(cart, line_id, value))

    @work(group="cart")
    async def action_line_discount(self) -> None:
        line_id = self.selected()
        if line_id is None or self.ctx.cashier is None:
            return
        line = self.cart.line(line_id)
        pct = await self.ask_number(
            f"Line discount: {line.item_name}",
            f"Discount % (your limit: {qty(self.ctx.cashier.discount_limit)}%)",
            qty(line.discount_percentage),
            _number_check(self.ctx.facts.number_style, Decimal(0), Decimal(100)),
        )
        if pct is None:
            return
        if not may(self.ctx.cashier, Action.LINE_DISCOUNT, pct):
            detail = {"item_code": line.item_code, "discount_percentage": str(pct)}
            if not await self.approved(
                Action.LINE_DISCOUNT, f"{qty(pct)}% off {line.item_name}", detail
            ):
                return
        await self.change(lambda cart: carts.set_line_discount(cart, line_id, pct))

    @work(group="cart")
    async def action_price(self) -> None:
        line_id = self.selected()
        if line_id is None or self.ctx.cashier is None:
            return
        line = self.cart.line(line_id)
        rate = await self.ask_number(
            f"Price: {line.item_name}",
            f"New unit price (list {money(line.price_list_rate)})",
            money(line.base_rate).replace(",", ""),
            _number_check(self.ctx.facts.number_style, Decimal(0)),
        )
        if rate is None:
            return
        if not may(self.ctx.cashier, Action.PRICE_OVERRIDE):
            detail = {"item_code": line.item_code, "rate": str(rate), "was": str(line.base_rate)}
            if not await self.approved(
                Action.PRICE_OVERRIDE, f"{line.item_name} at {money(rate)}", detail
            ):
                return
        await self.change(lambda cart: carts.override_price(cart, line_id, rate))

    @work(group="cart")
    async def action_remove_line(self) -> None:
        line_id = self.selected()
        if line_id is not None:
            await self.change(lambda cart: carts.remove_line(cart, line_id))

    @work(group="cart")
    async def action_cart_discount(self) -> None:
        cashier = self.ctx.cashier
        if cashier is None or self.cart.totals is None:
            self.say("The cart is empty", error=True)
            return
        typed = await self.app.push_screen_wait(
            PromptDialog(
                "Discount on the whole sale",
                f"Percent (5%) or amount (2.50); your limit {qty(cashier.discount_limit)}%",
                check=_number_check(self.ctx.facts.number_style, Decimal(0), suffix="%"),
            )
        )
        if typed is None:
            return
        is_pct = typed.strip().endswith("%")
        value = parse_amount(typed.strip().rstrip("%"), self.ctx.facts.number_style)
        assert value is not None
        base = self.cart.totals.grand_total
        pct = value if is_pct else (value * 100 / base if base else Decimal(100))
        if not may(cashier, Action.CART_DISCOUNT, pct):
            detail = {"cart_discount": typed.strip(), "grand_total": str(base)}
            if not await self.approved(
                Action.CART_DISCOUNT, f"{typed.strip()} off the sale", detail
            ):
                return
        if is_pct:
            op: CartChange = lambda cart: carts.set_cart_discount(cart, percentage=value)  # noqa: E731
        else:
            op = lambda cart: carts.set_cart_discount(  # noqa: E731
                cart, amount=value, on=DiscountOn.GRAND_TOTAL
            )
        await self.change(op)

    # -- the sale's details: coupon, sales person, note, unit --------------------------------
    @work(group="cart")
    async def action_coupon(self) -> None:
        if not self.cart.lines or self.cart.is_return:
            self.say("Scan the sale's items first: a coupon applies to a sale", error=True)
            return
        typed = await self.app.push_screen_wait(
            PromptDialog("Coupon", "Coupon code (empty: take the coupon off)")
        )
        if typed is None:
            return
        if not typed.strip():
            if await self.change(at_counter=Counter.remove_coupon):
                self.say("Coupon taken off the sale")
            return
        result = await self.ctx.backend.run(Counter.apply_coupon, self.cart, typed)
        approver = None
        if result.verdict is CouponVerdict.NEEDS_APPROVAL and result.coupon is not None:
            self.say(result.message, error=True)
            request = approval_request(self.ctx.user, result.coupon)
            approver = await self.app.push_screen_wait(
                OverrideDialog(self.ctx, request.action, request.reason, dict(request.detail))
            )
            if approver is None:
                self.say("Not approved: the coupon is not on the sale", error=True)
                return
        elif result.verdict is not CouponVerdict.APPLIED:
            self.say(result.message, error=True)
            return
        by = approver.user if approver else None
        if await self.change(
            at_counter=lambda counter, cart: counter.coupon_on(cart, typed, by),
            what="Coupon not applied",
        ):
            self.say(result.message)

    @work(group="cart")
    async def action_sales_person(self) -> None:
        people = await self.ctx.backend.run(Counter.sales_people)
        if not people:
            self.say("No sales people are set up in ERPNext for this till", error=True)
            return
        index = await self.app.push_screen_wait(
            ChoiceDialog("Sales person for this sale", ["(nobody)", *people])
        )
        if index is None:
            return
        name = people[index - 1] if index else None
        if await self.change(at_counter=lambda counter, cart: counter.set_sales_person(cart, name)):
            self.say(f"Sales person: {name}" if name else "No sales person on this sale")

    @work(group="cart")
    async def action_note(self) -> None:
        text = await self.app.push_screen_wait(
            PromptDialog("Note on the sale", "Sent to ERPNext with the sale", self.cart.note)
        )
        if text is not None and await self.change(lambda cart: carts.set_note(cart, text)):
            self.say("Note kept with the sale" if self.cart.note else "No note on this sale")

    @work(group="cart")
    async def action_unit(self) -> None:
        line_id = self.selected()
        if line_id is None:
            return
        line = self.cart.line(line_id)
        units = await self.ctx.backend.run(
            Counter.on_till, lambda till: till.units(self.cart, line_id)
        )
        if len(units) < 2:
            self.say(f"{line.item_name} is sold in one unit only", error=True)
            return
        stock = units[0][0]
        index = await self.app.push_screen_wait(
            ChoiceDialog(
                f"Unit: {line.item_name}",
                [f"{u}" if u == stock else f"{u} = {qty(f)} {stock}" for u, f in units],
            )
        )
        if index is None:
            return
        uom = units[index][0]
        if await self.change(at_till=lambda till, cart: till.set_uom(cart, line_id, uom)):
            now = self.cart.line(line_id)
            self.say(f"{now.item_name}  {qty(now.qty)} {uom} x {money(now.base_rate)}")

    # -- customer -----------------------------------------------------------------------------
    @work(group="cart")
    async def action_customer(self) -> None:
        chosen = await self.app.push_screen_wait(CustomerDialog(self.ctx))
        if chosen is None:
            return
        name, label = chosen
        self.customer_names[name] = label
        category = await self.ctx.backend.run(
            Counter.on_till, lambda till: till.exempting_category(name)
        )
        exemption, why = await self.exemption(name, label, category) if category else (None, "")
        if not await self.change(
            at_till=lambda till, cart: till.set_customer(cart, name, exemption)
        ):
            return
        if exemption is not None:
            self.say(f"Customer: {label}, tax exempt, certificate {exemption.certificate}")
        elif category:
            self.say(f"Customer: {label}, taxed: {why}", error=True)
        else:
            self.say(f"Customer: {label}")

    async def exemption(
        self, name: str, label: str, category: str
    ) -> tuple[TaxExemption | None, str]:
        """A tax-exempt customer's certificate number and a supervisor's approval, or why the
        sale stays taxed."""
        typed = await self.app.push_screen_wait(
            PromptDialog(
                f"{category}: {label}",
                "Exemption certificate number (Esc: sell with taxes)",
            )
        )
        number = (typed or "").strip()
        if not number:
            return None, "no exemption certificate number"
        if may(self.ctx.cashier, Action.TAX_EXEMPTION):
            return TaxExemption(number, self.ctx.user), ""
        approver = await self.app.push_screen_wait(
            OverrideDialog(
                self.ctx,
                Action.TAX_EXEMPTION,
                f"tax-exempt sale to {label}",
                {"customer": name, "tax_category": category, "certificate": number},
                reason=f"{category}, certificate {number}",
            )
        )
        if approver is None:
            return None, "the tax exemption was not approved"
        return TaxExemption(number, approver.user), ""

    # -- hold, recall, void -------------------------------------------------------------------
    @work(group="cart")
    async def action_hold(self) -> None:
        async with self._lock:
            if not self.cart.lines:
                self.say("Nothing to hold: the cart is empty", error=True)
                return
            backend = self.ctx.backend
            fresh = await backend.run(Counter.new_cart)
            now = store_local(datetime.now(UTC), self.ctx.facts.time_zone)  # as on receipts
            label = f"{now:%H:%M} {len(self.cart.lines)} lines {money(self.cart.amount_due)}"
            counter = carts.hold(self.counter, label, now.isoformat(), fresh)
            try:  # in the store first: only a cart on disk leaves the screen
                await backend.run(Counter.hold, counter.held[-1], self.ctx.user)
            except Exception as exc:
                self.say(failure(exc).sentence("Not held", "try again"), error=True)
                return
            self.counter = counter
            self.show_cart()
            self.to_display()
            self.say(f"Held: {label} ({len(self.counter.held)} held)")

    @work(group="cart")
    async def action_recall(self) -> None:
        if not self.counter.held:
            self.say("No held sales", error=True)
            return
        if self.cart.lines:
            self.say("Finish or hold the current sale before recalling another", error=True)
            return
        index = await self.app.push_screen_wait(
            ChoiceDialog("Recall a held sale", [h.label for h in self.counter.held])
        )
        if index is None:
            return
        async with self._lock:
            backend = self.ctx.backend
            try:
                counter = carts.recall(self.counter, index)
                await backend.run(Counter.recall, counter.active.offline_id)
            except Exception as exc:
                self.say(failure(exc).sentence("Not recalled", "try again"), error=True)
                return
            self.counter = counter
            self.show_cart()
            self.say(f"Recalled ({len(self.counter.held)} still held)")

    @work(group="cart")
    async def action_void(self) -> None:
        if not self.cart.lines:
            self.say("Nothing to void", error=True)
            return
        choice = await self.app.push_screen_wait(
            ChoiceDialog(
                f"Void this sale of {money(self.cart.amount_due)}?", ["Keep the sale", "VOID it"]
            )
        )
        if choice != 1:
            return
        async with self._lock:
            fresh = await self.ctx.backend.run(Counter.void, self.cart, self.ctx.user)
            self.counter = carts.Counter(active=fresh, held=self.counter.held)
            self.show_cart()
            self.to_display()
            self.say("Sale voided")

    # -- pay ----------------------------------------------------------------------------------
    @work(group="cart")
    async def action_pay(self) -> None:
        if not self.cart.lines:
            self.say("Scan something first", error=True)
            return
        if missing := carts.missing_numbers(self.cart):
            self.say(missing, error=True)
            return
        result: PayResult | None = await self.app.push_screen_wait(PayScreen(self.ctx, self.cart))
        await self.after_payment(result)

    async def after_payment(self, result: PayResult | None) -> None:
        if result is None:
            self.say("Payment cancelled: the sale is still open")
            return
        fresh = await self.ctx.backend.run(Counter.new_cart)
        async with self._lock:
            self.counter = carts.Counter(active=fresh, held=self.counter.held)
            self.last_sale = result.offline_id
            self.show_cart()
        change = f"  change {money(result.change)}" if result.change else ""
        self.say(f"Sale {result.receipt_no} done{change}. Next customer.")

    # -- menu ---------------------------------------------------------------------------------
    @work(group="menu")
    async def action_menu(self) -> None:
        index = await self.app.push_screen_wait(ChoiceDialog("Menu", [m[0] for m in MENU]))
        if index is None:
            return
        await self.run_action(MENU[index][1])

    @work(group="menu")
    async def action_sale_details(self) -> None:
        index = await self.app.push_screen_wait(
            ChoiceDialog("This sale", [m[0] for m in SALE_MENU])
        )
        if index is not None:
            await self.run_action(SALE_MENU[index][1])

    @work(group="menu")
    async def action_x_report(self) -> None:
        backend = self.ctx.backend
        totals = await backend.run(Counter.shift_totals)
        report = await backend.run(Counter.printed_report, totals, self.ctx.user, closing=False)
        await self.app.push_screen_wait(ReportDialog(self.ctx, report, totals))

    @work(group="menu")
    async def action_returns(self, code: str = "") -> None:
        if self.cart.lines:
            self.say("Finish or hold the current sale first", error=True)
            return
        result = await self.app.push_screen_wait(ReturnScreen(self.ctx, code))
        if result is not None:
            back = result.handed_back or f"{money(-result.refunded)} handed back"
            self.say(f"Refund {result.receipt_no} done: {back}")

    @work(group="menu")
    async def action_journal(self) -> None:
        code = await self.app.push_screen_wait(JournalScreen(self.ctx))
        if code is not None:
            self.action_returns(code)

    @work(group="menu")
    async def action_price_check(self) -> None:
        await self.app.push_screen_wait(PriceCheckDialog(self.ctx, self.cart.customer))

    @work(group="menu")
    async def action_quick_keys(self) -> None:
        item = await self.app.push_screen_wait(QuickKeysScreen(self.ctx))
        if item is not None:
            self.add_item(item)

    @work(group="menu")
    async def action_reprint(self) -> None:
        if self.last_sale is None:
            self.say("No sale on this screen yet", error=True)
            return
        text, failed = await reprint(self.ctx, self.last_sale)
        self.say(text, error=failed)

    @work(group="menu")
    async def action_no_sale(self) -> None:
        if not may(self.ctx.cashier, Action.NO_SALE):  # noqa: SIM102
            if not await self.approved(Action.NO_SALE, "open the drawer without a sale", {}):
                return
        try:  # the drawer journals its own opening
            await asyncio.to_thread(self.ctx.devices.open_drawer, NO_SALE)
        except Exception as exc:
            self.say(f"Drawer: {exc}", error=True)
            return
        self.say("Drawer opened (no sale), journaled")

    @work(group="menu")
    async def action_close_shift(self) -> None:
        if self.cart.lines or self.counter.held:
            self.say("Finish, void or recall every sale before closing the shift", error=True)
            return
        closed = await self.app.push_screen_wait(CloseShiftScreen(self.ctx))
        if closed:
            self.post_message(SignOut())

    def action_lock(self) -> None:
        self.post_message(LockNow())

    def action_sign_out(self) -> None:
        # Held sales stay in the store for whoever signs in next; only the open one must end.
        if self.cart.lines:
            self.say("Finish, hold or void this sale before signing out", error=True)
            return
        self.post_message(SignOut())

    @work(group="menu")
    async def action_supervisor(self) -> None:
        if not may(self.ctx.cashier, Action.SUPERVISOR_MENU):  # noqa: SIM102
            if not await self.approved(Action.SUPERVISOR_MENU, "open the supervisor menu", {}):
                return
        await self.app.push_screen_wait(SupervisorScreen(self.ctx))

    def held_labels(self) -> Sequence[str]:
        return [h.label for h in self.counter.held]

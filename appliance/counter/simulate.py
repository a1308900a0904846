"""`appliance simulate`: realistic sales through the counter's own path (scan, price, pay, commit).

For soak tests, benchmarks, the demo, and a whole shift against any ERPNext without the screen
(``--close-shift`` counts the drawer as expected and closes the shift after the sales). Every
sale goes through ``Checkout`` exactly as the counter screen sends it: barcode scans (including
scale labels), keyed quantities, customers with their own tax rules, discounts, cash with change
or card, and now and then a return.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from appliance.counter.checkout import Checkout
from appliance.counter.returns import paid_back
from appliance.sales import cart as carts
from appliance.sales.cart import Cart, CartError
from appliance.sales.model import DiscountOn, PaymentLine
from appliance.sales.shift import ShiftReport
from appliance.store.models import Customer, Item, ItemBarcode
from appliance.store.sales import CommittedSale

CASH_NOTES = (Decimal(5), Decimal(10), Decimal(20), Decimal(50), Decimal(100))


@dataclass
class SimulationResult:
    sales: int = 0
    returns: int = 0
    refused_scans: int = 0
    grand_total: Decimal = Decimal(0)
    commit_ms: list[float] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    closing: ShiftReport | None = None  # the Z report, when the shift was closed

    def summary(self, elapsed: float) -> dict[str, object]:
        ms = sorted(self.commit_ms)

        def pct(p: float) -> float:
            return round(ms[min(len(ms) - 1, int(p * len(ms)))], 2) if ms else 0.0

        return {
            "sales": self.sales,
            "returns": self.returns,
            "refused_scans": self.refused_scans,
            "grand_total": str(self.grand_total),
            "first_receipt": self.receipts[0] if self.receipts else None,
            "last_receipt": self.receipts[-1] if self.receipts else None,
            "seconds": round(elapsed, 2),
            "commit_ms": {
                "p50": pct(0.50),
                "p95": pct(0.95),
                "p99": pct(0.99),
                "mean": round(statistics.fmean(ms), 2) if ms else 0.0,
            },
            **({"closed_shift": _closing(self.closing)} if self.closing else {}),
        }


def _closing(report: ShiftReport) -> dict[str, object]:
    return {
        "invoices": report.sales_count,
        "returns": report.returns_count,
        "grand_total": str(report.grand_total),
        "counted": {m.mode_of_payment: str(m.closing_amount) for m in report.modes},
        "over_short": str(report.over_short),
    }


class Simulator:
    def __init__(self, checkout: Checkout, seed: int, cashier: str = "ana@example.com") -> None:
        self.checkout = checkout
        self.rng = random.Random(seed)
        self.cashier = cashier
        self.result = SimulationResult()
        with checkout.reading() as session:
            self.barcodes = list(
                session.scalars(
                    select(ItemBarcode.barcode)
                    .join(Item, Item.name == ItemBarcode.parent)
                    .where(Item.disabled.is_(False), Item.is_weighed.is_(False))
                    .limit(5000)
                )
            )
            self.produce = list(
                session.scalars(
                    select(ItemBarcode.barcode)
                    .join(Item, Item.name == ItemBarcode.parent)
                    .where(Item.is_weighed.is_(True))
                    .limit(500)
                )
            )
            self.customers = list(session.scalars(select(Customer.name).limit(2000)))
        if not self.barcodes:
            raise CartError("The catalog is empty: run `appliance demo-data` or sync first")
        layouts = checkout.profile.scan.layouts
        self.weight_layout = next((lay for lay in layouts if lay.kind.value == "weight"), None)

    def _scan_line(self, cart: Cart) -> Cart:
        rng = self.rng
        if self.produce and self.weight_layout and rng.random() < 0.15:
            plu = rng.choice(self.produce)
            item_ref = plu.zfill(self.weight_layout.item_digits)[-self.weight_layout.item_digits :]
            grams = Decimal(rng.randint(80, 2500)) / 1000
            code = self.weight_layout.encode(item_ref, grams)
        else:
            code = rng.choice(self.barcodes)
        cart = self.checkout.read(lambda till: till.scan(cart, code))
        if rng.random() < 0.1 and not cart.lines[-1].is_weighed:
            line = cart.lines[-1]
            cart = self.checkout.read(lambda till: till.set_qty(cart, line.line_id, line.qty + 2))
        return cart

    def _pay(self, cart: Cart) -> Cart:
        due = cart.amount_due
        if self.rng.random() < 0.55:
            tendered = next((n for n in CASH_NOTES if n >= due), due)
            if self.rng.random() < 0.3:
                tendered = due
            return carts.add_payment(cart, PaymentLine("Cash", tendered, type="Cash"))
        return carts.add_payment(cart, PaymentLine("Credit Card", due, type="Bank"))

    def one_sale(self) -> Cart:
        rng = self.rng
        customer = rng.choice(self.customers) if self.customers and rng.random() < 0.3 else None
        cart = self.checkout.new_cart(customer)
        for _ in range(rng.choice((1, 1, 2, 3, 4, 6, 9, 14))):
            try:
                cart = self._scan_line(cart)
            except CartError:
                self.result.refused_scans += 1
        if not cart.lines:
            return cart
        if rng.random() < 0.08:
            cart = carts.set_line_discount(cart, cart.lines[0].line_id, Decimal(10))
        if rng.random() < 0.05:
            cart = carts.set_cart_discount(cart, percentage=Decimal(5), on=DiscountOn.GRAND_TOTAL)
        return self._pay(cart)

    def one_return(self) -> Cart | None:
        receipt = self.rng.choice(self.result.receipts)
        original, already = self.checkout.return_source(receipt)
        line = self.rng.choice(original.lines)
        left = line.qty - already.get(line.line_id, Decimal(0))
        if left <= 0:
            return None
        back = self.checkout.start_return(receipt, {line.line_id: left})
        with self.checkout.reading() as session:  # by the original modes, as at the screen
            return paid_back(session, back, receipt)

    def run(
        self, sales: int, on_commit: Callable[[CommittedSale, Cart], None] | None = None
    ) -> SimulationResult:
        """Commit `sales` sales; `on_commit` is called after each one is durable (the store's
        commit and its high-water mark returned)."""
        self.result = SimulationResult()
        if sales and self.checkout.current_shift() is None:
            self.checkout.open_shift(self.cashier, {"Cash": Decimal(200)})
        while self.result.sales < sales:
            is_return = bool(self.result.receipts) and self.rng.random() < 0.04
            cart = self.one_return() if is_return else self.one_sale()
            if cart is None or not cart.lines:
                continue
            started = time.perf_counter()
            committed = self.checkout.commit(cart, self.cashier)
            self.result.commit_ms.append((time.perf_counter() - started) * 1000)
            assert cart.totals is not None
            if on_commit:
                on_commit(committed, cart)
            self.result.grand_total += cart.totals.grand_total
            if cart.is_return:
                self.result.returns += 1
            else:
                self.result.receipts.append(committed.receipt_no)
            self.result.sales += 1
        return self.result

    def close_shift(self) -> ShiftReport:
        """Count the drawer as expected (every mode to the cent) and close the shift: what a
        cashier does at the end of a day, so a whole shift can run without the screen."""
        expected = self.checkout.shift_report()
        counted = {m.mode_of_payment: m.expected_amount for m in expected.modes}
        self.result.closing = self.checkout.close_shift(self.cashier, counted)
        return self.result.closing

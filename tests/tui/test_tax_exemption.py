"""A cashier who makes a customer with the "Tax Exempt" category cannot sell tax-free on their
own: without a certificate number the sale is taxed and the screen says why; with one and a
supervisor's PIN the taxes go, and the receipt prints the certificate. Real app, real store."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from textual.widgets import OptionList, Static

from appliance.counter.door import Counter
from appliance.store.models import JournalEntry
from appliance.tui.app import PosApp
from appliance.tui.backend import Backend
from appliance.tui.screens.customer import CustomerDialog
from appliance.tui.screens.dialogs import ChoiceDialog, PromptDialog
from appliance.tui.screens.sell import SellScreen

from .conftest import human, run_async, start_selling, until, wedge_scan
from .test_day import answer, approve, pay, sell_screen, shelf_barcodes

NUMBER = "BC-EX-20931"


async def exempt_customer(app: PosApp, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    """F5, F2: a new customer in British Columbia, with the Tax Exempt category."""
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(app.screen, CustomerDialog))
    await pilot.press("f2")
    await answer(app, pilot, name)
    await answer(app, pilot, "")
    await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
    provinces = app.screen
    assert isinstance(provinces, ChoiceDialog)
    for _ in range(provinces.entries.index("British Columbia")):  # the store's own province
        await pilot.press("down")
    await pilot.press("enter")
    await until(
        pilot,
        lambda: isinstance(app.screen, ChoiceDialog) and app.screen.title_text == "Tax category",
    )
    dialog = app.screen
    assert isinstance(dialog, ChoiceDialog)
    for _ in range(dialog.entries.index("Tax Exempt")):
        await pilot.press("down")
    await pilot.press("enter")


async def certificate_for(app: PosApp, pilot, search: str) -> None:  # type: ignore[no-untyped-def]
    """F5, the customer found by ``search`` and picked, the certificate number typed."""
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(app.screen, CustomerDialog))
    await human(pilot, search, gap=0.01)
    results = app.screen.query_one("#customer-results", OptionList)
    await until(pilot, lambda: bool(results.option_count))
    await pilot.press("enter")
    await answer(app, pilot, NUMBER)


def message(app: PosApp) -> str:
    return str(sell_screen(app).query_one("#message", Static).render())


@run_async
async def test_a_tax_exempt_sale_needs_the_certificate_and_a_supervisor(  # type: ignore[no-untyped-def]
    counter, backend: Backend, data_dir: Path
) -> None:
    code = shelf_barcodes(backend, 1, taxed=True)[0]
    async with counter() as (app, pilot):
        await start_selling(app, pilot)  # Ana, a cashier
        sell = sell_screen(app)
        await wedge_scan(pilot, code)
        await until(pilot, lambda: len(sell.cart.lines) == 1)
        taxed_total = sell.cart.amount_due

        # Her own exempt customer, no certificate number: taxed, and told why.
        await exempt_customer(app, pilot, "Maple School Board")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SellScreen) and bool(sell.cart.customer))
        await until(pilot, lambda: "taxed" in message(app))
        assert "no exemption certificate number" in message(app)
        assert sell.cart.tax_exemption is None and sell.cart.amount_due == taxed_total
        customer = sell.cart.customer

        # The number, but the supervisor does not approve: still taxed.
        await certificate_for(app, pilot, "Maple")
        await until(pilot, lambda: app.screen.__class__.__name__ == "OverrideDialog")
        await pilot.press("escape")
        await until(pilot, lambda: "not approved" in message(app))
        assert sell.cart.tax_exemption is None and sell.cart.amount_due == taxed_total

        # The number and Bo's PIN: no taxes, the certificate on the sale and the receipt.
        await certificate_for(app, pilot, "Maple")
        await approve(app, pilot, "")  # the reason is offered: the certificate
        await until(pilot, lambda: sell.cart.tax_exemption is not None)
        assert sell.cart.customer == customer
        assert sell.cart.amount_due < taxed_total
        assert f"certificate {NUMBER}" in message(app)
        done = await pay(app, pilot, "f7")
        assert done.result is not None
        receipt_no = done.result.receipt_no

    printed = (data_dir / "receipts" / f"{receipt_no}.txt").read_text()
    assert f"Tax exempt: certificate {NUMBER}" in printed, printed
    with backend.counter.read() as session:
        overrides = session.scalars(select(JournalEntry).where(JournalEntry.kind == "override"))
        (approval,) = [json.loads(e.data) for e in overrides]
    assert approval["action"] == "tax_exemption" and approval["certificate"] == NUMBER
    assert approval["reason"] == f"Tax Exempt, certificate {NUMBER}"
    assert backend.call(Counter.receipt, receipt_no).exemption_certificate == NUMBER

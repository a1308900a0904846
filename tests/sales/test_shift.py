"""X/Z report figures, checked against the cash-up of a real ERPNext closing (closing/21)."""

from __future__ import annotations

from decimal import Decimal as D

from appliance.sales.shift import SaleSummary, shift_report

GST, PST = "GST Payable - PTC", "PST Payable - PTC"


def _sale(  # noqa: PLR0917 -- one positional column per figure of the recorded shift
    no: str, gt: str, rounded: str, paid: str, change: str, gst: str, pst: str
) -> SaleSummary:
    net = D(gt) - D(gst) - D(pst)
    return SaleSummary(
        receipt_no=no,
        is_return=False,
        net_total=net,
        grand_total=D(gt),
        rounded_total=D(rounded),
        total_qty=D(1),
        discount_amount=D(0),
        change_amount=D(change),
        payments=(("Cash", D(paid)),),
        taxes=((GST, D(5), D(gst)), (PST, D(7), D(pst))),
    )


SHIFT = [
    _sale("T01-1", "11.20", "11", "11", "0", "0.50", "0.70"),
    _sale("T01-2", "22.40", "22", "40", "18", "1.00", "1.40"),
    _sale("T01-3", "36.40", "36", "37", "1", "1.62", "2.28"),
]


def test_expected_cash_matches_erpnexts_closing() -> None:
    report = shift_report(
        SHIFT, opening={"Cash": D(150)}, cash_mode="Cash", counted={"Cash": D(219)}
    )
    (cash,) = report.modes
    assert cash.expected_amount == D(219)  # 150 + (11 + 40 + 37) - (18 + 1), as ERPNext computed
    assert cash.difference == 0
    assert report.grand_total == D("70.00")
    assert {t.account_head: t.amount for t in report.taxes} == {GST: D("3.12"), PST: D("4.38")}
    assert report.sales_count == 3 and report.warnings == ()


def test_short_drawer_and_card_payments() -> None:
    card = SaleSummary(
        "T01-4", False, D(10), D("11.30"), D(11), D(1), D(0), D(0), (("Card", D(11)),), ()
    )
    report = shift_report(
        [*SHIFT, card],
        opening={"Cash": D(150), "Card": D(0)},
        cash_mode="Cash",
        counted={"Cash": D("214.50"), "Card": D(11)},
    )
    modes = {m.mode_of_payment: m for m in report.modes}
    assert modes["Cash"].difference == D("-4.50")
    assert modes["Card"].difference == 0
    assert report.over_short == D("-4.50")


def test_mixed_rounding_in_one_shift_is_flagged() -> None:
    unrounded = _sale("T01-9", "33.60", "0", "33.60", "0", "1.50", "2.10")
    report = shift_report([*SHIFT, unrounded], opening={"Cash": D(0)}, cash_mode="Cash")
    assert report.warnings and "rounded and some are not" in report.warnings[0]
    assert report.modes[0].difference is None  # an X report counts nothing

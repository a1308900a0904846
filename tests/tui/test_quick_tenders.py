"""Quick-tender amounts offered on the pay screen."""

from __future__ import annotations

from decimal import Decimal as D

from appliance.tui.screens.pay import quick_tenders


def test_next_banknotes_above_what_is_left() -> None:
    assert quick_tenders(D("12.35")) == [D(15), D(20), D(50)]


def test_nothing_to_offer_once_paid() -> None:
    assert quick_tenders(D(0)) == []
    assert quick_tenders(D("-6.30")) == []

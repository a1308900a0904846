"""Telling a wedge scanner from a person by key timing alone."""

from __future__ import annotations

from appliance.tui.wedge import Release, Scan, WedgeDetector


def burst(w: WedgeDetector[str], code: str, start: float, step: float) -> float:
    t = start
    for char in code:
        assert w.printable(char, char, t) is None
        t += step
    return t


def test_thirteen_digits_and_enter_within_50ms_is_one_scan() -> None:
    w: WedgeDetector[str] = WedgeDetector()
    t = burst(w, "4006381333931", 0.0, 0.003)
    assert w.enter(t) == Scan("4006381333931")
    assert not w.holding


def test_a_person_typing_gets_every_key_back_in_order() -> None:
    w: WedgeDetector[str] = WedgeDetector()
    assert w.printable("a", "a", 0.0) is None
    released = w.printable("p", "p", 0.2)  # a human gap: the held "a" goes back first
    assert released == Release(("a",))
    assert w.tick(0.5) == Release(("p",))


def test_a_short_burst_with_enter_is_typing_not_a_scan() -> None:
    w: WedgeDetector[str] = WedgeDetector()
    t = burst(w, "1234", 0.0, 0.002)
    assert w.enter(t) == Release(tuple("1234"))


def test_enter_long_after_the_burst_is_not_a_scan() -> None:
    w: WedgeDetector[str] = WedgeDetector()
    burst(w, "4006381333931", 0.0, 0.002)
    assert isinstance(w.enter(1.0), Release)


def test_another_key_releases_what_was_held() -> None:
    w: WedgeDetector[str] = WedgeDetector()
    burst(w, "123", 0.0, 0.002)
    assert w.other() == Release(tuple("123"))
    assert w.tick(5.0) is None

"""Toledo 8217 polling against the twin: weights, motion, capacity, negative, zero."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from appliance.drivers.config import ScaleConfig, SerialSettings
from appliance.drivers.errors import (
    DeviceOfflineError,
    NegativeWeightError,
    OverCapacityError,
    UnstableWeightError,
)
from appliance.drivers.scale import ToledoScale, parse_reply
from appliance.drivers.state import DeviceState
from appliance.drivers.virtual.scale import VirtualScale


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[VirtualScale, ToledoScale]]:
    with VirtualScale(tmp_path / "scale") as twin:
        scale = ToledoScale(
            ScaleConfig("scale", SerialSettings(twin.path, bytesize=7, parity="E", timeout=0.3)),
            poll_interval=0.02,
        )
        scale.open()
        yield twin, scale
        scale.close()


def test_stable_weight(rig: tuple[VirtualScale, ToledoScale]) -> None:
    twin, scale = rig
    twin.set_weight("1.235")
    weight = scale.read_weight()
    assert weight.value == D("1.235") and weight.unit == "kg"
    assert twin.received.endswith(b"W")


def test_errors(rig: tuple[VirtualScale, ToledoScale]) -> None:
    twin, scale = rig
    twin.set_weight("0.500", motion=True)
    with pytest.raises(UnstableWeightError):
        scale.read_weight()
    twin.set_weight("20")
    with pytest.raises(OverCapacityError):
        scale.read_weight()
    twin.set_weight("0.2")
    scale.zero()
    assert scale.read_weight().value == 0  # also: the twin has handled Z before W
    twin.set_weight("0.1")
    with pytest.raises(NegativeWeightError):
        scale.read_weight()


def test_stable_detection_waits_for_settling(rig: tuple[VirtualScale, ToledoScale]) -> None:
    import threading

    twin, scale = rig
    twin.set_weight("0.75", motion=True)
    threading.Timer(0.15, lambda: twin.set_weight("0.750")).start()
    assert scale.read_stable_weight(timeout=2).value == D("0.750")
    twin.set_weight("0.8", motion=True)
    with pytest.raises(UnstableWeightError):
        scale.read_stable_weight(timeout=0.1)


def test_silent_scale_goes_offline(rig: tuple[VirtualScale, ToledoScale]) -> None:
    twin, scale = rig
    twin.silent = True
    with pytest.raises(DeviceOfflineError):
        scale.read_weight()
    assert scale.status.state is DeviceState.OFFLINE


def test_parse_reply_wire_format() -> None:
    assert parse_reply("s", b"\x0202.345\r", "kg").value == D("2.345")
    with pytest.raises(UnstableWeightError):
        parse_reply("s", b"\x02?A\r", "kg")

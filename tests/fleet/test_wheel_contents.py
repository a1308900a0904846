"""What a till installs: the appliance wheel holds the product, never the fake ERPNext or tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .conftest import NEW


def test_the_wheel_a_till_installs_has_no_fake_erpnext(wheelhouse: Path) -> None:
    (wheel,) = wheelhouse.glob(f"appliance-{NEW}-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert "appliance" in tops
    assert not {"fakeerp", "tests", "bench"} & tops, sorted(tops)
    assert not [n for n in names if "fakeerp" in n]

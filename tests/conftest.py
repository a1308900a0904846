"""Settings for the whole suite."""

from __future__ import annotations

import os

from hypothesis import settings

# In CI (CI=true) every property test runs the same examples each time (derandomize): a red CI
# then means the change broke something, not that this run's draw found an old bug. Run locally,
# they explore afresh; what they find is fixed and kept as an explicit example (the provisioning
# secret's carriage return in tests/provision/test_provision.py is one).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

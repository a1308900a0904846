"""The embedded demo store: masters shaped as ERPNext serves them, generated deterministically."""

from pathlib import Path

DEMO_CONFIG = Path(__file__).with_name("appliance.toml")

"""Where the appliance keeps its files: overridable for tests, the demo and development."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path("/var/lib/appliance")
DEFAULT_CONFIG_FILE = Path("/etc/appliance/appliance.toml")
DB_FILENAME = "pos.db"


def data_dir() -> Path:
    return Path(os.environ.get("APPLIANCE_DATA") or DEFAULT_DATA_DIR)


def config_file() -> Path:
    return Path(os.environ.get("APPLIANCE_CONFIG") or DEFAULT_CONFIG_FILE)


def db_path() -> Path:
    return data_dir() / DB_FILENAME

"""The one error a refused config file raises, apart from `appliance.config` so the parts that
validate a table of it (`appliance.drivers.config` for ``[devices]``) need not import the whole
config, which imports them: no import cycle."""


class ConfigError(ValueError):
    """``<file>: [section] key: problem``."""

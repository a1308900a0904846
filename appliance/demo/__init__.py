"""The embedded demo store: masters shaped as ERPNext serves them, generated deterministically."""

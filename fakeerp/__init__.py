"""A contract-faithful fake ERPNext 15 (Frappe REST v1) for tests and the demo."""

from fakeerp.server import FakeERPNext, Faults, Logged
from fakeerp.site import Site

__all__ = ["FakeERPNext", "Faults", "Logged", "Site"]

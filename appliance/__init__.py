"""Offline-first point-of-sale appliance for ERPNext."""

__version__ = "0.1.0"

"""Widgets of the counter screen, one per file."""

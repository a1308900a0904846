"""Barcode scanners that are not keyboard wedges: serial, and USB HID read through evdev."""

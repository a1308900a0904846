"""Device errors: specific classes that carry the device name and the underlying cause.

The app shows these to a cashier or a supervisor, so the message says which device and why; the
cause is kept for the support bundle.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every driver error: ``<device>: <problem>``."""

    def __init__(self, device: str, problem: str, cause: BaseException | None = None) -> None:
        self.device = device
        self.problem = problem
        self.cause = cause
        detail = f" ({cause})" if cause is not None and str(cause) else ""
        super().__init__(f"{device}: {problem}{detail}")


class DeviceOfflineError(DeviceError):
    """The device cannot be reached: unplugged, powered off, port gone, network down."""

    def __init__(self, device: str, cause: BaseException | None = None) -> None:
        super().__init__(device, "offline", cause)


class DependencyMissingError(DeviceError):
    """An optional backend needs a library that is not installed; the message says which."""


class DeviceProtocolError(DeviceError):
    """The device answered, but not in the protocol we expect (wrong model, baud or framing)."""


class PrinterError(DeviceError):
    """The printer is connected but cannot print (paper out, cover open, bad job)."""


class DrawerError(DeviceError):
    """The drawer could not be kicked or its state read."""


class ScaleError(DeviceError):
    """Base of the scale's weighing errors: the cashier sees the message."""


class UnstableWeightError(ScaleError):
    def __init__(self, device: str) -> None:
        super().__init__(device, "weight is not stable: wait for the scale to settle")


class OverCapacityError(ScaleError):
    def __init__(self, device: str) -> None:
        super().__init__(device, "over capacity: remove the item")


class NegativeWeightError(ScaleError):
    def __init__(self, device: str) -> None:
        super().__init__(device, "weight is below zero: empty the platter and zero the scale")


class ScannerError(DeviceError):
    """The scanner backend cannot deliver codes."""

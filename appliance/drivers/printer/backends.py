"""Config -> a python-escpos printer object. The transports are python-escpos' own classes;
this module only chooses one and fills in its arguments."""

from __future__ import annotations

from escpos.escpos import Escpos
from escpos.printer import File, Network, Serial, Usb

from appliance.drivers.config import PrinterBackend, PrinterConfig
from appliance.drivers.errors import DependencyMissingError


def make_escpos(cfg: PrinterConfig) -> Escpos:
    """An unopened printer object for `cfg` (open it with ``.open()``)."""
    profile = cfg.model
    if cfg.backend is PrinterBackend.SERIAL:
        assert cfg.serial is not None
        s = cfg.serial
        return Serial(
            devfile=s.port,
            baudrate=s.baud,
            bytesize=s.bytesize,
            parity=s.parity,
            stopbits=s.stopbits,
            timeout=s.timeout,
            profile=profile,
        )
    if cfg.backend is PrinterBackend.FILE:
        return File(devfile=cfg.path, profile=profile)
    if cfg.backend is PrinterBackend.NETWORK:
        return Network(host=cfg.host, port=cfg.tcp_port, timeout=cfg.timeout, profile=profile)
    if not Usb.is_usable():
        raise DependencyMissingError(
            cfg.name, "the usb backend needs pyusb: pip install 'python-escpos[usb]'"
        )
    return Usb(cfg.usb_vendor_id, cfg.usb_product_id, profile=profile)


def device_path(cfg: PrinterConfig) -> str | None:
    """The device node whose disappearance means the printer was unplugged, if there is one."""
    if cfg.backend is PrinterBackend.SERIAL and cfg.serial and cfg.serial.port.startswith("/"):
        return cfg.serial.port
    if cfg.backend is PrinterBackend.FILE:
        return cfg.path
    return None

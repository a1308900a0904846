"""Counter peripherals: receipt printer, cash drawer, scanners, customer display and scale.

Each device kind has a small interface (`interfaces`), real drivers built on python-escpos and
pyserial, and a virtual twin on a pseudo-terminal (`virtual/`) speaking the same bytes. A
`Supervisor` keeps lost devices retrying in the background so the till never waits on hardware.
"""

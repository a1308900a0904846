"""Virtual twins of the counter devices on pseudo-terminals, speaking the devices' own bytes.

The real drivers open the twin's link path exactly as they would open /dev/serial/by-id/...;
`unplug()` removes the link and hangs up the pty, `plug()` brings it back at the same path.
"""

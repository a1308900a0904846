"""Support and fleet operations on a terminal: ``appliance health``, ``busy`` and
``support-bundle`` (what Ansible and a support person call), and the till's activity file."""

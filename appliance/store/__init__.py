"""Local SQLite store: models, sessions, migrations, outbox, journal.

Modules, by what they hold:
- ``db``: engine (pragmas, BEGIN IMMEDIATE), session factories, ``unit_of_work``;
- ``models``: the tables; ``migrations`` + ``migrate``: Alembic, run from code;
- ``sales``, ``shifts``, ``customers``: documents the till creates, each written together with
  its outbox entry and journal entry in the caller's transaction;
- ``masters``: ERPNext master documents in (chunked upserts), deletions, the demo seed;
- ``catalog``: the sales engine's ``Catalog`` and the till's profile over the store;
  ``search_index``: the FTS5 indexes behind item and customer search;
- ``receipts``: gap-free receipt numbers; ``outbox``: queue states and dependencies;
- ``journal``: the hash-chained audit log; ``check``: ``appliance db check``;
- ``watermark``: the high-water mark of what was committed, outside the database file;
- ``commands``: the CLI handlers; ``jsonutil``: exact-money JSON.
"""

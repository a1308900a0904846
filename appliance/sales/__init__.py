"""Pure sales domain: no I/O, no Textual, no SQLAlchemy."""

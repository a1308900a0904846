"""The sync agent: ERPNext client, exactly-once push, incremental pull."""

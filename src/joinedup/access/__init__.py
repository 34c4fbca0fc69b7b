"""The access gate: every read and write of the record passes through here (who may see what; audit)."""

"""The audit trail: every access recorded, append-only, tamper-evident (a hash chain), never written to logs."""

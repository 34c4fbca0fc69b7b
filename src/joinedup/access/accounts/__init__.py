"""Local accounts: Argon2id password hashes, optional TOTP, lock-out after repeated failures, no user enumeration."""

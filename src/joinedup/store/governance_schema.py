"""Tables of information governance (migrations 0002, 0004, 0005, 0008): break-glass grants, the audit trail, accounts,
tokens, server-side web sessions and the rate limits' failures.

They share the store's `metadata` so one Alembic history creates everything. Only `access/` writes them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from .schema import Pk, metadata

break_glass = Table(
    "break_glass",
    metadata,
    Column("grant_id", String(36), primary_key=True),
    Column("user_ref", String(255), nullable=False),
    Column("role", String(64), nullable=False),
    Column("organisation", String(255)),
    Column("patient_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("started", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("expires", BigInteger, nullable=False),
    Column("reviewed_by", String(255)),
    Column("reviewed_at", BigInteger),
    Column("review_note", Text),
    Index("ix_break_glass_user_patient", "user_ref", "patient_id", "expires"),
    Index("ix_break_glass_patient", "patient_id"),
    Index("ix_break_glass_review", "reviewed_at", "started"),
)

# Append-only: entries are only ever inserted; each holds the hash of the one before (a chain), and audit_head
# holds the last entry's number and hash so that cutting entries off the end is detected too. Since migration 0008
# the hash is keyed (HMAC-SHA256) under the key `key_id` names, kept outside the database (decision 0312); entries
# without a key id are the plain SHA-256 chain written before it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Pk, primary_key=True, autoincrement=False),
    Column("recorded", BigInteger, nullable=False),
    Column("action", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("user_ref", String(255), nullable=False),
    Column("role", String(64)),
    Column("organisation", String(255)),
    Column("purpose", String(64)),
    Column("client_address", String(64)),
    Column("entry", Text, nullable=False),  # canonical JSON of everything above plus what, patients and detail
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("key_id", String(16)),
    Index("ix_audit_log_recorded", "recorded"),
    Index("ix_audit_log_user", "user_ref", "recorded"),
)

audit_subjects = Table(
    "audit_subjects",
    metadata,
    Column("seq", Pk, nullable=False),
    Column("patient_id", String(64), nullable=False),
    Index("ix_audit_subjects_patient", "patient_id", "seq"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("entry_hash", String(64), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("username", String(255), primary_key=True),  # case-folded
    Column("password_hash", String(255), nullable=False),  # Argon2id
    Column("display_name", String(255), nullable=False),
    Column("user_ref", String(255), nullable=False),  # 'PractitionerRole/…', 'Patient/…'
    Column("role", String(64), nullable=False),
    Column("organisation", String(255)),
    Column("organisation_name", String(255)),
    Column("totp_secret", String(64)),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", BigInteger),
    Column("active", Boolean, nullable=False, default=True),
    Column("created", BigInteger, nullable=False),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(128), primary_key=True),
    Column("secret_hash", String(255)),  # Argon2id; NULL for a public client (PKCE only)
    Column("name", String(255), nullable=False),
    Column("role", String(64), nullable=False),  # what a client-credentials token acts as
    Column("organisation", String(255)),
    Column("scopes", Text, nullable=False),  # the scopes it may ask for, space separated
    Column("redirect_uris", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the bearer token; the token is never stored
    Column("kind", String(16), nullable=False),  # access, code
    Column("client_id", String(128), nullable=False),
    Column("user_ref", String(255), nullable=False),
    Column("role", String(64), nullable=False),
    Column("organisation", String(255)),
    Column("scopes", Text, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("detail", Text),  # a code's redirect_uri and PKCE challenge, as JSON
    Column("account", String(255)),  # the account a user's token or code stands for; NULL for a system's token
    Index("ix_oauth_tokens_expires", "expires"),
    Index("ix_oauth_tokens_account", "account"),
)

# One row per signed-in browser (migration 0004): the cookie carries a random identifier, this table its SHA-256.
# Deleting the rows signs the browsers out at once (sign-out, role change, account disabled).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("account", String(255), nullable=False),  # 'local:<username>', 'oidc:<issuer subject>', 'demo:<role>'
    Column("signed_in", Text, nullable=False),  # the SignedIn, as JSON
    Column("created", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Index("ix_web_sessions_account", "account"),
    Index("ix_web_sessions_expires", "expires"),
)

# One row per failed sign-in or token request (migration 0005), so that every worker process counts the same
# failures. The key (a name tried, a client id, an address) is kept as its SHA-256 only.
rate_limit_failures = Table(
    "rate_limit_failures",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("scope", String(32), nullable=False),  # 'sign-in' or 'token'
    Column("key_hash", String(64), nullable=False),
    Column("failed_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Index("ix_rate_limit_failures_key", "scope", "key_hash", "failed_at"),
    Index("ix_rate_limit_failures_at", "failed_at"),
)

"""Server-side web sessions (revocable at once) and the account behind a user's token.

`web_sessions` holds one row per signed-in browser, keyed by the SHA-256 of the random session identifier the
cookie carries; signing out, a role change or disabling the account deletes the rows, and the next request is
signed out. `oauth_tokens.account` names the account a user's token (or authorisation code) stands for, so that
disabling the account ends its tokens too. See docs/decisions/0310.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("account", sa.String(255), nullable=False),
        sa.Column("signed_in", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_web_sessions_account", "web_sessions", ["account"])
    op.create_index("ix_web_sessions_expires", "web_sessions", ["expires"])
    op.add_column("oauth_tokens", sa.Column("account", sa.String(255)))
    op.create_index("ix_oauth_tokens_account", "oauth_tokens", ["account"])


def downgrade() -> None:
    op.drop_index("ix_oauth_tokens_account", table_name="oauth_tokens")
    op.drop_column("oauth_tokens", "account")
    op.drop_table("web_sessions")

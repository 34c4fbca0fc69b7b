"""The audit chain is keyed: each entry names the key its HMAC was made with (decision 0312).

`audit_log.key_id` holds the id of the keyring key (kept outside the database) whose HMAC-SHA256 is the entry's
hash. Entries written before this migration keep NULL: they are the plain SHA-256 chain, verified as the legacy
segment up to the number the keyring recorded when it was made; the first keyed entry chains on from their head.
Nothing is rehashed, so a downgrade only drops the column (keyed entries then no longer verify as plain ones).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")

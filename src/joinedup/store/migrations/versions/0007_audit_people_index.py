"""On SQLite the audit's person index becomes an FTS5 table, one row per entry (decision 0015).

`audit_subjects` held a row per person an entry concerns under a B-tree on (patient_id, seq): each person shown
dirtied a random leaf page, which was most of an audited search's commit (decision 0014). `audit_people` holds
one row per entry, rowid = the entry's number, with a token per person (the hex of the id's UTF-8 bytes); FTS5
writes a transaction's tokens as one small sorted segment. It keeps no content (the chain itself names the people
of each entry), no column sizes and no positions: only "which entries hold this token" is ever asked.

PostgreSQL keeps `audit_subjects` as it is.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        return
    op.execute(
        "CREATE VIRTUAL TABLE audit_people USING fts5(people, content='', detail=none, columnsize=0, tokenize='ascii')"
    )
    op.execute(
        "INSERT INTO audit_people(rowid, people) "
        "SELECT seq, group_concat(lower(hex(patient_id)), ' ') FROM audit_subjects GROUP BY seq"
    )
    op.drop_index("ix_audit_subjects_patient", table_name="audit_subjects")
    op.drop_table("audit_subjects")


def downgrade() -> None:
    if not _sqlite():
        return
    op.create_table(
        "audit_subjects",
        sa.Column("seq", Pk, nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
    )
    # The FTS table keeps no content; every entry's JSON names its people, so the rows are rebuilt from the chain.
    op.execute(
        "INSERT INTO audit_subjects(seq, patient_id) "
        "SELECT audit_log.seq, people.value FROM audit_log, json_each(audit_log.entry, '$.patients') AS people"
    )
    op.create_index("ix_audit_subjects_patient", "audit_subjects", ["patient_id", "seq"])
    op.execute("DROP TABLE audit_people")

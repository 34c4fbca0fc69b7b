"""Tables of the store (SQLAlchemy Core). The Alembic migrations in store/migrations create exactly these.

`resources` holds each resource's current version, `resource_versions` every version ever written (nothing is
overwritten in place), and one `idx_*` table per search parameter type holds the values extracted from the
current version, written in the same transaction. Text that is compared by range or prefix uses the "C"
collation on PostgreSQL so that it orders byte-wise exactly as SQLite does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

# SQLite only aliases the rowid (and so autoincrements) for a column declared exactly INTEGER PRIMARY KEY.
Pk = BigInteger().with_variant(Integer(), "sqlite")


def byte_ordered(length: int | None = None) -> String:
    """A string column that compares byte-wise on both databases."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


resources = Table(
    "resources",
    metadata,
    Column("pk", Pk, primary_key=True, autoincrement=True),
    Column("resource_type", String(64), nullable=False),
    Column("id", byte_ordered(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("deleted", Boolean, nullable=False, default=False),
    Column("source", String(255)),  # meta.source: the partner organisation the resource came from
    Column("content_hash", String(64), nullable=False),
    Column("content", LargeBinary),  # JSON bytes of the current version; NULL once deleted
    Index("ux_resources_type_id", "resource_type", "id", unique=True),
    Index("ix_resources_type_updated", "resource_type", "last_updated"),
    Index("ix_resources_updated", "last_updated"),
    # Every search checks each candidate's type and that it is live. With this index that check reads a small,
    # cached B-tree instead of the row itself (its JSON fills most of a page), which was most of the SQL time of a
    # search with hundreds of matches to count (decision 0011). SQLite seeks it by (type, deleted, pk).
    Index("ix_resources_type_deleted_pk", "resource_type", "deleted", "pk"),
)

resource_versions = Table(
    "resource_versions",
    metadata,
    Column("resource_pk", Pk, primary_key=True, autoincrement=False),
    Column("version_id", Integer, primary_key=True, autoincrement=False),
    Column("resource_type", String(64), nullable=False),
    Column("id", byte_ordered(64), nullable=False),
    Column("last_updated", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("method", String(8), nullable=False),
    Column("content", LargeBinary),  # NULL for the version that records a delete
    Index("ix_versions_type_updated", "resource_type", "last_updated"),
    Index("ix_versions_updated", "last_updated"),
)


def _index_table(
    name: str,
    *value_columns: Column[Any],
    indexes: tuple[tuple[str, ...], ...],
    by_resource: tuple[str, ...] = ("resource_pk",),
    named: dict[str, tuple[str, ...]] | None = None,
) -> Table:
    """An index table: `by_resource` leads with resource_pk (a resource's own rows: rewrites, and the probes of
    one candidate), `indexes` and `named` (where the columns make too long a name) serve the searches' leading
    look-ups."""
    table = Table(
        name,
        metadata,
        Column("resource_pk", Pk, nullable=False),
        Column("resource_type", String(64), nullable=False),
        Column("param", String(64), nullable=False),
        *value_columns,
    )
    Index("_".join((f"ix_{name}_pk", *by_resource[1:])), *(table.c[c] for c in by_resource))
    for columns in indexes:
        Index(f"ix_{name}_{'_'.join(columns)}", *(table.c[c] for c in columns))
    for index_name, columns in (named or {}).items():
        Index(index_name, *(table.c[c] for c in columns))
    return table


idx_string = _index_table(
    "idx_string",
    Column("value", byte_ordered(), nullable=False),  # case- and accent-folded, for prefix and :contains
    Column("exact", Text, nullable=False),  # as written, for :exact
    indexes=(("resource_type", "param", "value"),),
)
idx_token = _index_table(
    "idx_token",
    Column("system", byte_ordered(), nullable=False),  # '' when the value has no system
    Column("code", byte_ordered(), nullable=False),
    Column("text", Text),  # folded display/text, for :text
    indexes=(("resource_type", "param", "code", "system"),),
    # A probe (status beside an owner, the gate's label and tag checks) is one seek of a candidate's (param, code)
    # rather than a visit to each of its token rows (decision 0011).
    by_resource=("resource_pk", "param", "code"),
)
idx_reference = _index_table(
    "idx_reference",
    Column("target_type", String(64)),
    Column("target_id", byte_ordered(64)),
    Column("url", Text),  # absolute or canonical references
    Column("ident_system", Text),  # Reference.identifier, for :identifier
    Column("ident_value", Text),
    # By target, whatever the referring type ($everything, the gate); and by type, parameter and target, which
    # answers a leading reference criterion (Tasks by owner, Conditions by subject) from the index alone (0011).
    indexes=(("target_id", "target_type", "param"),),
    named={"ix_idx_reference_type_param_target": ("resource_type", "param", "target_id", "target_type", "resource_pk")},
)
idx_date = _index_table(
    "idx_date",
    Column("low", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("high", BigInteger, nullable=False),
    Column("span", SmallInteger, nullable=False, server_default="0"),  # span class: store/date_spans.py
    indexes=(("resource_type", "param", "span", "low", "high", "resource_pk"),),
)
idx_number = _index_table(
    "idx_number",
    Column("value", Float, nullable=False),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    indexes=(("resource_type", "param", "value"),),
)
idx_quantity = _index_table(
    "idx_quantity",
    Column("value", Float, nullable=False),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    Column("system", byte_ordered(), nullable=False),
    Column("code", byte_ordered(), nullable=False),
    Column("unit", Text),
    indexes=(("resource_type", "param", "value"),),
)
idx_uri = _index_table(
    "idx_uri",
    Column("value", byte_ordered(), nullable=False),
    indexes=(("resource_type", "param", "value"),),
)

INDEX_TABLES: dict[str, Table] = {
    "string": idx_string,
    "token": idx_token,
    "reference": idx_reference,
    "date": idx_date,
    "number": idx_number,
    "quantity": idx_quantity,
    "uri": idx_uri,
}

export_jobs = Table(
    "export_jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # accepted, in-progress, complete, error, cancelled
    Column("request_url", Text, nullable=False),
    Column("requested_by", String(255)),
    Column("created", BigInteger, nullable=False),
    Column("transaction_time", BigInteger),
    Column("manifest", LargeBinary),
    Column("error", Text),
)

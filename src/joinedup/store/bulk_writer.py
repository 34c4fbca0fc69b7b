"""Write many resources in one transaction with set-based SQL: the loader's fast path.

Same rules as the one-at-a-time writer (a new version only when the content changed, history row, index rows in
the same transaction) but each step is one multi-row statement for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, delete, select, update

from joinedup.fhir import dates
from joinedup.fhir.source import source_of

from .indexer import INDEX_COLUMNS, IndexTuples, index_tuples, last_updated_tuple
from .schema import INDEX_TABLES, resource_versions, resources
from .writer import content_hash, stamp

# The version a worker writes into a body it serialises ahead of the writer, and the instant: both are replaced by
# the writer (StampedBody.stamped), which alone knows the version and the transaction's time.
_PLACEHOLDER_VERSION = 0
_PLACEHOLDER_TIME = dates.format_instant(dates.from_micros(0)).encode()
_STAMP_AT = b'"meta":{"versionId":"'
_PLACEHOLDER_META = _STAMP_AT + str(_PLACEHOLDER_VERSION).encode() + b'","lastUpdated":"' + _PLACEHOLDER_TIME + b'"'


@dataclass(frozen=True, slots=True)
class StampedBody:
    """A resource's JSON as stored, serialised in a worker, with its server-owned meta (versionId, lastUpdated)
    left for the writer: `head` ends where the version goes and `tail` starts after the instant. Serialising and
    stamping in the single writer, and unpickling the resource's dict to do it, were about a quarter of the
    writer's time per resource (decision 0019)."""

    head: bytes
    tail: bytes

    @classmethod
    def of(cls, resource: dict[str, Any]) -> StampedBody:
        """Split the stamped JSON of `resource` (left as it is) around its meta's version and instant. stamp puts
        the meta straight after resourceType and id, and a quote inside any JSON string is escaped, so the first
        match of the placeholder meta is the stamp's own."""
        body = orjson.dumps(stamp(dict(resource), resource["id"], _PLACEHOLDER_VERSION, 0))
        at = body.index(_PLACEHOLDER_META)
        return cls(body[: at + len(_STAMP_AT)], body[at + len(_PLACEHOLDER_META) :])

    def stamped(self, version_id: int, instant: bytes) -> bytes:
        """The JSON exactly as `orjson.dumps(stamp(resource, id, version_id, moment))` makes it, where `instant` is
        the moment as stamp writes it (dates.format_instant), encoded."""
        return b"".join((self.head, str(version_id).encode(), b'","lastUpdated":"', instant, b'"', self.tail))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated resource ready to write: made in a worker process, so that the single writer receives bytes and
    tuples rather than a resource's dicts, and only puts the key, the version and the time in."""

    resource_type: str
    id: str
    source: str | None  # meta.source: the partner organisation it came from
    digest: str  # content hash without the server's meta (writer.content_hash): an unchanged re-load is skipped
    body: StampedBody
    index: IndexTuples

    @classmethod
    def of(cls, resource: dict[str, Any], digest: str | None = None) -> Prepared:
        """From a validated resource that has its id (left unchanged); the hash is made when not given."""
        return cls(
            resource["resourceType"],
            resource["id"],
            source_of(resource),
            digest if digest is not None else content_hash(resource),
            StampedBody.of(resource),
            index_tuples(resource),
        )


@dataclass
class BatchCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


_EXISTING_COLUMNS = (
    resources.c.pk,
    resources.c.resource_type,
    resources.c.id,
    resources.c.version_id,
    resources.c.deleted,
    resources.c.content_hash,
)


def _existing(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The current rows for these keys, asked for one resource type at a time: a row-value IN list,
    `(resource_type, id) IN ((…), …)`, made SQLite scan the whole unique index for every batch, so a load slowed
    as the store grew (a quarter of the loader's writing time on an empty store of 114,000 resources)."""
    ids_by_type: dict[str, list[str]] = {}
    for resource_type, resource_id in keys:
        ids_by_type.setdefault(resource_type, []).append(resource_id)
    if conn.dialect.name == "postgresql":
        return _existing_postgres(conn, ids_by_type)
    found: dict[tuple[str, str], Any] = {}
    for resource_type, ids in ids_by_type.items():
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(*_EXISTING_COLUMNS).where(
                    resources.c.resource_type == resource_type, resources.c.id.in_(ids[start : start + 500])
                )
            ).all()
            found.update({(r.resource_type, r.id): r for r in rows})
    return found


# One array parameter per type, and a plan made for this execution. psycopg prepares a statement it has run five
# times, and PostgreSQL may then keep a generic plan chosen while `resources` was small: early in a load into an
# empty store that plan was a sequential scan, kept as the table grew to 114,000 rows (0.2 s a batch, three
# quarters of the whole load's time; decision 0019). A custom plan sees the table as it is.
EXISTING_LOOKUP_POSTGRES = (
    "SELECT pk, resource_type, id, version_id, deleted, content_hash FROM resources "
    "WHERE resource_type = %(resource_type)s AND id = ANY(%(ids)s)"
)


def _existing_postgres(conn: Connection, ids_by_type: dict[str, list[str]]) -> dict[tuple[str, str], Any]:
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    found: dict[tuple[str, str], Any] = {}
    for resource_type, ids in ids_by_type.items():
        rows = conn.exec_driver_sql(EXISTING_LOOKUP_POSTGRES, {"resource_type": resource_type, "ids": ids})
        found.update({(r.resource_type, r.id): r for r in rows})
    return found


def write_batch(conn: Connection, batch: Sequence[Prepared], method: str = "PUT") -> BatchCounts:
    counts = BatchCounts()
    latest: dict[tuple[str, str], Prepared] = {}
    for item in batch:  # the last of duplicates within one batch wins, as if written in order
        latest[(item.resource_type, item.id)] = item
    existing = _existing(conn, list(latest))
    moment = dates.now_instant()
    now = dates.micros(moment)
    instant = dates.format_instant(moment).encode()
    new_rows, changed_rows, versions, pending_index = [], [], [], []
    for key, item in latest.items():
        current = existing.get(key)
        if current is not None and not current.deleted and current.content_hash == item.digest:
            counts.unchanged += 1
            continue
        version_id = 1 if current is None else current.version_id + 1
        body = item.body.stamped(version_id, instant)
        row = {
            "resource_type": key[0],
            "id": key[1],
            "version_id": version_id,
            "last_updated": now,
            "deleted": False,
            "source": item.source,
            "content_hash": item.digest,
            "content": body,
        }
        if current is None:
            new_rows.append(row)
            counts.created += 1
        else:
            changed_rows.append({**row, "b_pk": current.pk})
            counts.updated += 1
        versions.append((key, version_id, body))
        pending_index.append((key, item.index))
    pks = {(r.resource_type, r.id): r.pk for r in existing.values()}
    if new_rows:
        fresh = _allocate_pks(conn, len(new_rows))
        insert_rows(
            conn,
            resources,
            _RESOURCE_COLUMNS,
            [(pk, *(row[c] for c in _RESOURCE_COLUMNS[1:])) for pk, row in zip(fresh, new_rows, strict=True)],
        )
        pks.update({(row["resource_type"], row["id"]): pk for pk, row in zip(fresh, new_rows, strict=True)})
    if changed_rows:
        conn.execute(
            update(resources)
            .where(resources.c.pk == bindparam("b_pk"))
            .values(
                version_id=bindparam("version_id"),
                last_updated=bindparam("last_updated"),
                deleted=False,
                source=bindparam("source"),
                content_hash=bindparam("content_hash"),
                content=bindparam("content"),
            ),
            [{k: v for k, v in r.items() if k not in {"resource_type", "id", "deleted"}} for r in changed_rows],
        )
        changed_pks = [r["b_pk"] for r in changed_rows]
        for table in INDEX_TABLES.values():
            conn.execute(delete(table).where(table.c.resource_pk.in_(changed_pks)))
    if versions:
        insert_rows(
            conn,
            resource_versions,
            ("resource_pk", "version_id", "resource_type", "id", "last_updated", "deleted", "method", "content"),
            [(pks[key], v, key[0], key[1], now, False, method if v == 1 else "PUT", body) for key, v, body in versions],
        )
    _insert_index(conn, pks, pending_index, now)
    return counts


_RESOURCE_COLUMNS = (
    "pk",
    "resource_type",
    "id",
    "version_id",
    "last_updated",
    "deleted",
    "source",
    "content_hash",
    "content",
)


def _allocate_pks(conn: Connection, count: int) -> list[int]:
    """Primary keys for `count` new resources, taken before inserting them so that the rows go in as one plain
    executemany: an INSERT ... RETURNING that must keep parameter order ran once per row on SQLite (a third of
    the loader's time). The write transaction holds SQLite's write lock (BEGIN IMMEDIATE), so the next keys are
    max + 1 onwards (rows are never removed, so no key is reused); PostgreSQL hands them out from the sequence."""
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('resources', 'pk')) FROM generate_series(1, %(n)s)", {"n": count}
        )
        return [int(r[0]) for r in found]
    top = conn.exec_driver_sql("SELECT COALESCE(MAX(pk), 0) FROM resources").scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + count))


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """A plain multi-row INSERT through the driver's executemany: the loader's hot path, where building a
    SQLAlchemy parameter dict per row cost more than the database's own work. On PostgreSQL, COPY: the same rows
    in the same transaction, streamed without a statement per row."""
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, columns, rows)
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    conn.exec_driver_sql(statement, rows)


def _copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_index(
    conn: Connection, pks: dict[tuple[str, str], int], pending: list[tuple[tuple[str, str], IndexTuples]], now: int
) -> None:
    by_kind: dict[str, list[tuple[Any, ...]]] = {}
    dates_rows = by_kind.setdefault("date", [])
    for key, rows in pending:
        pk = pks[key]
        for kind, kind_rows in rows.items():
            by_kind.setdefault(kind, []).extend((pk, *row) for row in kind_rows)
        dates_rows.append((pk, *last_updated_tuple(key[0], now)))
    for kind, tuples in by_kind.items():
        if tuples:
            insert_rows(conn, INDEX_TABLES[kind], ("resource_pk", *INDEX_COLUMNS[kind]), tuples)

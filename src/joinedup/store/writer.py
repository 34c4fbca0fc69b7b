"""The write path: one new version, its history row and its index rows, in the caller's transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from joinedup.fhir import dates
from joinedup.fhir.errors import PreconditionFailed
from joinedup.fhir.source import source_of

from .indexer import index_rows, last_updated_row
from .schema import INDEX_TABLES, resource_versions, resources


@dataclass(frozen=True, slots=True)
class Written:
    """What a write produced. `changed` is False when the content equalled the current version (no new version)."""

    resource: dict[str, Any] | None
    resource_type: str
    id: str
    version_id: int
    last_updated: int
    created: bool
    changed: bool


_SERVER_META = frozenset({"versionId", "lastUpdated"})


def content_hash(resource: dict[str, Any]) -> str:
    """A hash of the content without the server-assigned meta, so that an identical re-load is recognised."""
    meta = resource.get("meta")
    if isinstance(meta, dict):
        kept = {k: v for k, v in meta.items() if k not in {"versionId", "lastUpdated"}}
        resource = {**resource, "meta": kept} if kept else {k: v for k, v in resource.items() if k != "meta"}
    return hashlib.sha256(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)).hexdigest()


def stamp(resource: dict[str, Any], resource_id: str, version_id: int, last_updated: int) -> dict[str, Any]:
    """Set the id and the meta the server owns, first in the object as FHIR writes them; returns the same dict."""
    meta = resource.get("meta")
    kept_meta = {k: v for k, v in (meta if isinstance(meta, dict) else {}).items() if k not in _SERVER_META}
    rest = {k: v for k, v in resource.items() if k not in {"resourceType", "id", "meta"}}
    resource_type = resource["resourceType"]
    resource.clear()
    resource["resourceType"] = resource_type
    resource["id"] = resource_id
    resource["meta"] = {
        "versionId": str(version_id),
        "lastUpdated": dates.format_instant(dates.from_micros(last_updated)),
        **kept_meta,
    }
    resource.update(rest)
    return resource


def _current(conn: Connection, resource_type: str, resource_id: str) -> Any:
    query = (
        select(resources.c.pk, resources.c.version_id, resources.c.deleted, resources.c.content_hash)
        .where(resources.c.resource_type == resource_type, resources.c.id == resource_id)
        .with_for_update()
    )
    return conn.execute(query).first()


def write_index(conn: Connection, pk: int, rows: dict[str, list[dict[str, Any]]]) -> None:
    for kind, kind_rows in rows.items():
        for row in kind_rows:
            row["resource_pk"] = pk
        conn.execute(insert(INDEX_TABLES[kind]), kind_rows)


def clear_index(conn: Connection, pk: int) -> None:
    for table in INDEX_TABLES.values():
        conn.execute(delete(table).where(table.c.resource_pk == pk))


def write_version(
    conn: Connection,
    resource_type: str,
    resource_id: str,
    resource: dict[str, Any] | None,
    method: str,
    if_match: int | None = None,
    now: int | None = None,
) -> Written:
    """Write a new version (resource=None deletes). Unchanged content writes nothing and reports changed=False."""
    moment = now if now is not None else dates.micros(dates.now_instant())
    current = _current(conn, resource_type, resource_id)
    if if_match is not None and (current is None or current.version_id != if_match):
        found = "no current version" if current is None else f"version {current.version_id}"
        raise PreconditionFailed(f"If-Match expected version {if_match} but {resource_type}/{resource_id} has {found}")
    if resource is None:
        return _write_delete(conn, resource_type, resource_id, current, moment)
    digest = content_hash(resource)
    if current is not None and not current.deleted and current.content_hash == digest:
        return Written(None, resource_type, resource_id, current.version_id, moment, created=False, changed=False)
    version_id = 1 if current is None else current.version_id + 1
    stamp(resource, resource_id, version_id, moment)
    body = orjson.dumps(resource)
    values = {
        "version_id": version_id,
        "last_updated": moment,
        "deleted": False,
        "source": source_of(resource),
        "content_hash": digest,
        "content": body,
    }
    if current is None:
        pk = conn.execute(
            insert(resources).values(resource_type=resource_type, id=resource_id, **values).returning(resources.c.pk)
        ).scalar_one()
    else:
        pk = current.pk
        conn.execute(update(resources).where(resources.c.pk == pk).values(**values))
        clear_index(conn, pk)
    conn.execute(
        insert(resource_versions).values(
            resource_pk=pk,
            version_id=version_id,
            resource_type=resource_type,
            id=resource_id,
            last_updated=moment,
            deleted=False,
            method=method,
            content=body,
        )
    )
    rows = index_rows(resource)
    rows.setdefault("date", []).append(last_updated_row(resource_type, moment))
    write_index(conn, pk, rows)
    created = current is None or bool(current.deleted)
    return Written(resource, resource_type, resource_id, version_id, moment, created=created, changed=True)


def _write_delete(conn: Connection, resource_type: str, resource_id: str, current: Any, moment: int) -> Written:
    if current is None or current.deleted:
        version = 0 if current is None else current.version_id
        return Written(None, resource_type, resource_id, version, moment, created=False, changed=False)
    version_id = current.version_id + 1
    conn.execute(
        update(resources)
        .where(resources.c.pk == current.pk)
        .values(version_id=version_id, last_updated=moment, deleted=True, content=None, content_hash="")
    )
    conn.execute(
        insert(resource_versions).values(
            resource_pk=current.pk,
            version_id=version_id,
            resource_type=resource_type,
            id=resource_id,
            last_updated=moment,
            deleted=True,
            method="DELETE",
            content=None,
        )
    )
    clear_index(conn, current.pk)
    return Written(None, resource_type, resource_id, version_id, moment, created=False, changed=True)

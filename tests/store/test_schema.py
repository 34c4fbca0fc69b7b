"""The migrations and store/schema.py agree: a migrated database has exactly the store's tables, columns and
indexes the code declares (Alembic's own comparison), on both databases (migration 0006 replaced two indexes
of the search index tables and added one to resources: decision 0011)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from joinedup.store.schema import INDEX_TABLES, metadata, resource_versions, resources

STORE_TABLES = {t.name for t in (resources, resource_versions, *INDEX_TABLES.values())}


def _store_differences(database_url: str) -> list[object]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()

    def table_of(diff: object) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff  # modifications come as a list of one tuple
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(getattr(part, "table", None), "name", None)
            for candidate in (table, name):
                if candidate in STORE_TABLES:
                    return candidate
        return None

    return [d for d in diffs if table_of(d) is not None]


def test_migrations_and_store_schema_agree(database_url: str) -> None:
    assert _store_differences(database_url) == []

"""Migration 0004 and governance_schema.py agree: the migrated database has exactly the sign-in tables, columns
and indexes the code declares (Alembic's own comparison), on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from joinedup.store.governance_schema import oauth_clients, oauth_tokens, web_sessions

OWN_TABLES = {t.name for t in (web_sessions, oauth_tokens, oauth_clients)}


def _differences(database_url: str) -> list[object]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), web_sessions.metadata)
    finally:
        engine.dispose()

    def table_of(diff: object) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff  # modifications come as a list of one tuple
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(getattr(part, "table", None), "name", None)
            for candidate in (table, name):
                if candidate in OWN_TABLES:
                    return candidate
        return None

    return [d for d in diffs if table_of(d) is not None]


def test_migration_and_schema_agree(database_url: str) -> None:
    assert _differences(database_url) == []

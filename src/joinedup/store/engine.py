"""Database engines: SQLite (WAL, the embedded default) and PostgreSQL (production), behaving the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE = {"joinedup_write": True}  # execution option: this connection will write


def make_engine(url: str, pool_size: int = 20) -> Engine:
    """An engine for the URL; SQLite files get WAL and serialised writers that never fail with 'locked'."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None hands transaction control to us, so that writers can BEGIN IMMEDIATE: a deferred
    # transaction that reads then writes can hit SQLITE_BUSY midway, which no busy timeout can resolve.
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        pool_size=20,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("joinedup_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see the data as it now is (after a load or a migration).

    Without statistics SQLite guessed that `resource_type = ?` was the narrowest way into a search and visited
    every Condition to test a patient's three; with them it starts from the index rows that matched. A sampled
    ANALYZE (analysis_limit) takes well under a second even on a store of a million resources.
    """
    with engine.begin() as conn:
        if is_postgres(engine):
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")

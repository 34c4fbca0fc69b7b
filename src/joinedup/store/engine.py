"""Database engines: SQLite (WAL, the embedded default) and PostgreSQL (production), behaving the same."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

WRITE = {"joinedup_write": True}  # execution option: this connection will write
# Execution option: this connection runs one statement, which sees one snapshot on its own, so on SQLite no BEGIN
# is sent (the statement's implicit transaction serves) and the COMMIT that ends SQLAlchemy's transaction is a no-op.
SINGLE_STATEMENT = {"joinedup_single_statement": True}


def make_engine(url: str, pool_size: int = 20) -> Engine:
    """An engine for the URL; SQLite files get WAL and serialised writers that never fail with 'locked'."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    _keep_long_statements_parsed()
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_after_idle(engine)
    return engine


# A pooled PostgreSQL connection is pinged on checkout only after this long unused. SQLAlchemy's pool_pre_ping
# pinged on every checkout: two of an audited read's six trips to the server (the read's connection and the
# audit's), each a wait on the server sharing these cores. A connection in steady use is known to be alive; one
# left idle may have been cut (a server restart, a firewall's idle timeout) and is tested before it is lent.
IDLE_BEFORE_PING_SECONDS = 10.0
_IDLE_SINCE = "joinedup_idle_since"


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_SECONDS:
            return  # new, or in use moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool throws this connection away and lends another (a fresh one if every idle one is dead).
            raise DisconnectionError("a pooled connection had gone away while idle") from error


# psycopg turns a statement's `%(name)s` placeholders into `$n` with a regular expression, and keeps the result
# only for statements of at most 4,096 characters and 50 parameters (ORM-made INSERTs of many rows would fill its
# cache). A date search's statement is longer (one scan per span class, decision 0007) but is one of a few kept
# shapes (0009), so it was parsed again on every request: about 0.6 ms of a 1.5 ms search. These are psycopg's
# module settings, read at each call; psycopg is pinned (requirements.lock) and a test checks that they still exist.
PSYCOPG_STATEMENT_LENGTH = 32_768
PSYCOPG_STATEMENT_PARAMS = 400


def _keep_long_statements_parsed() -> None:
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, PSYCOPG_STATEMENT_LENGTH)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, PSYCOPG_STATEMENT_PARAMS)


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
        options = connection.get_execution_options()
        if options.get("joinedup_single_statement", False):
            return
        # Straight to the driver: every call into sqlite3 lets go of the GIL and takes it back, and under 16 clients
        # SQLAlchemy's own execute path around a BEGIN was a measurable share of a read.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if options.get("joinedup_write") else "BEGIN")

    return engine


@contextmanager
def writers_queue(engine: Engine) -> Iterator[None]:
    """Hold this SQLite file's writers' queue (an exclusive lock on `<file>-writers.lock`) for one write transaction.

    SQLite's own wait for its write lock is a sleep-and-retry loop (1, 2, 5, 10 … up to 100 ms between tries), so a
    process that loses a few races to another process's commits sleeps far longer than the commits it waits for:
    with two server processes appending audit entries this was the whole 95th-percentile tail of a read (hundreds of
    milliseconds for a one-millisecond commit). A kernel file lock queues the waiter and wakes it the moment the
    lock is let go. Writers that do not take it (other tools) still meet SQLite's lock, so correctness never
    depends on it. PostgreSQL and in-memory databases queue on their own locks: nothing to do.
    """
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    descriptor = os.open(f"{database}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # blocks in the kernel (the GIL is let go while it waits)
        yield
    finally:
        os.close(descriptor)  # closing the descriptor lets go of the lock


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see the data as it now is (after a load or a migration).

    Without statistics SQLite guessed that `resource_type = ?` was the narrowest way into a search and visited
    every Condition to test a patient's three; with them it starts from the index rows that matched. A sampled
    ANALYZE (analysis_limit) takes well under a second even on a store of a million resources. On PostgreSQL,
    VACUUM (ANALYZE): besides the statistics it marks the freshly loaded pages all-visible, without which the
    covering indexes' index-only scans (decision 0011) still visit the table for every row until autovacuum comes
    round. It cannot run inside a transaction, hence autocommit; pages already all-visible are skipped, so a
    small load into a large store stays cheap.
    """
    if is_postgres(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")

"""The audit trail's group commit on SQLite, on the driver's connection.

Through SQLAlchemy Core an append was five statements (the head, the entries, their people, the head moved, then
COMMIT), each paying about 60 µs of SQLAlchemy's execute path (compiled-cache look-up, parameter processing, event
dispatch, result set-up) against about 10 µs in sqlite3 itself: most of the audit's share of an audited read, which
was itself most of a read's time in the worker (decision 0017). The statements here are plain SQL on the pooled
sqlite3 connection, which SQLAlchemy made with isolation_level=None (store/engine.py), so BEGIN IMMEDIATE and COMMIT
are said here and nothing is begun behind our back.

The entries' JSON and hashes come from the same code as PostgreSQL's (trail._chain), so verify.py checks both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError

from joinedup.store.engine import writers_queue

from .people_index import FTS_TABLE, people_tokens
from .rows import ENTRY_COLUMNS, Rows

HEAD = "SELECT seq, entry_hash FROM audit_head WHERE id = 1"
INSERT_ENTRY = f"INSERT INTO audit_log ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' for _ in ENTRY_COLUMNS)})"
INSERT_PEOPLE = f"INSERT INTO {FTS_TABLE}(rowid, people) VALUES (?, ?)"
MOVE_HEAD = "UPDATE audit_head SET seq = ?, entry_hash = ? WHERE id = 1"


def append_batch(engine: Engine, chain: Callable[[int, str], Rows]) -> None:
    """In this file's writers' queue and one IMMEDIATE transaction: read the head, hand its number and hash to
    `chain` (which takes the queued entries and returns their rows and people), write them and move the head."""
    with writers_queue(engine):
        pooled = engine.raw_connection()  # checked out as any other and returned to the pool on close
        connection = pooled.driver_connection
        assert isinstance(connection, sqlite3.Connection)
        try:
            connection.execute("BEGIN IMMEDIATE")
            head = connection.execute(HEAD).fetchone()
            if head is None:
                raise RuntimeError("the audit trail has no head row (run `joinedup db upgrade`)")
            rows, people = chain(int(head[0]), str(head[1]))
            connection.executemany(INSERT_ENTRY, [tuple(row[column] for column in ENTRY_COLUMNS) for row in rows])
            named = [(seq, people_tokens(names)) for seq, names in people if names]
            if named:
                connection.executemany(INSERT_PEOPLE, named)
            connection.execute(MOVE_HEAD, (rows[-1]["seq"], rows[-1]["entry_hash"]))
            connection.execute("COMMIT")
        except sqlite3.Error as error:  # as SQLAlchemy would raise it, so callers meet one kind of database error
            raise DBAPIError.instance("audit append", None, error, sqlite3.Error) from error
        finally:
            _hand_back(pooled, connection)


def _hand_back(pooled: PoolProxiedConnection, connection: sqlite3.Connection) -> None:
    """Return the connection with no transaction open; one that cannot be rolled back is thrown away."""
    try:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    except sqlite3.Error:
        pooled.invalidate()
    pooled.close()

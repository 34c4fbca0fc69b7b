"""The audit trail's group commit on PostgreSQL, in three round trips to the server instead of six.

Through SQLAlchemy a commit was six waits on the server: BEGIN, the head row FOR UPDATE, the entries, their people,
the head moved, COMMIT. Each one is a trip over the socket and a wake-up of this process and of the server's; with
the server on the same two cores as the workers, those waits were most of an audited read's time (an audited
Patient read was 2.1 ms against 0.65 ms for the store's read on its own, 10 of its 15 waits the audit's).

Here the pooled connection, in autocommit so that psycopg sends no BEGIN of its own, sends BEGIN with the head's
lock as one simple query (the chain's next hash needs the head's, so that answer is awaited; a simple query takes
no parameters, which this one has none of), then one prepared statement that writes the entries, their people and
the new head (sent as one JSON text), then COMMIT. psycopg's pipeline mode would have made two trips, but it
waits for the socket to be readable or writable, and a socket is nearly always writable: under 16 clients its
waiting spun on the CPU the server needed, and audited reads fell from about 900 a second to under 400. Putting
COMMIT inside the second query needs client-side binding, which did no better under load and gave up the
prepared plan (decision 0016).

The entries' JSON and keyed hashes are made exactly as on SQLite (trail._chain), so verify.py checks both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError

from .rows import ENTRY_COLUMNS, Rows

BEGIN_AND_HEAD = "BEGIN; SELECT seq, entry_hash FROM audit_head WHERE id = 1 FOR UPDATE"

# One statement: data-modifying CTEs all run, whether or not the outer statement reads them. The batch goes as one
# JSON text, unpacked server-side: psycopg dumps each array parameter element by element in Python, and the 14
# arrays this took before were most of the append's time in the worker (decision 0017). A JSON string round-trips
# exactly, so each entry's canonical JSON arrives as it was hashed.
APPEND = """
WITH batch AS (SELECT %(batch)s::json AS doc),
entries AS (
    INSERT INTO audit_log (seq, recorded, action, outcome, user_ref, role, organisation, purpose, client_address,
                           entry, prev_hash, entry_hash, key_id)
    SELECT e.* FROM batch, json_to_recordset(batch.doc -> 'entries') AS e(
        seq bigint, recorded bigint, action text, outcome text, user_ref text, role text, organisation text,
        purpose text, client_address text, entry text, prev_hash text, entry_hash text, key_id text)
), people AS (
    INSERT INTO audit_subjects (seq, patient_id)
    SELECT p.seq, p.patient_id FROM batch, json_to_recordset(batch.doc -> 'people') AS p(seq bigint, patient_id text)
)
UPDATE audit_head SET seq = (batch.doc ->> 'head_seq')::bigint, entry_hash = batch.doc ->> 'head_hash'
FROM batch WHERE audit_head.id = 1
"""


def append_batch(engine: Engine, chain: Callable[[int, str], Rows]) -> None:
    """Lock the head, hand its number and hash to `chain` (which takes the queued entries and returns their rows
    and people), write them and move the head, all in one transaction."""
    pooled = engine.raw_connection()  # checked out as any other (pinged if it lay idle), returned on close
    connection = pooled.driver_connection
    assert isinstance(connection, psycopg.Connection)
    connection.autocommit = True  # the queries below say BEGIN and COMMIT themselves
    try:
        with psycopg.ClientCursor(connection) as cursor:
            cursor.execute(BEGIN_AND_HEAD)
            cursor.nextset()  # past BEGIN's result to the head's
            head = cursor.fetchone()
            if head is None:
                raise RuntimeError("the audit trail has no head row (run `joinedup db upgrade`)")
            rows, people = chain(int(head[0]), str(head[1]))
            batch = {
                "entries": [{column: row[column] for column in ENTRY_COLUMNS} for row in rows],
                "people": [{"seq": seq, "patient_id": name} for seq, names in people for name in names],
                "head_seq": rows[-1]["seq"],
                "head_hash": rows[-1]["entry_hash"],
            }
        with connection.cursor() as bound:
            bound.execute(APPEND, {"batch": orjson.dumps(batch).decode()}, prepare=True)
        connection.execute("COMMIT")
    except psycopg.Error as error:  # as SQLAlchemy would raise it, so callers meet one kind of database error
        raise DBAPIError.instance("audit append", None, error, psycopg.Error) from error
    finally:
        _hand_back(pooled, connection)


def _hand_back(pooled: PoolProxiedConnection, connection: psycopg.Connection[Any]) -> None:
    """Return the connection to the pool as it came out: no transaction open, autocommit off. One that cannot be
    put right (the server went away) is thrown away rather than handed to the next caller."""
    try:
        if connection.info.transaction_status != TransactionStatus.IDLE:
            connection.execute("ROLLBACK")
        connection.autocommit = False
    except psycopg.Error:
        pooled.invalidate()
    pooled.close()

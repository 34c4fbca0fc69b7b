"""The audit trail's group commit on PostgreSQL, in three round trips to the server instead of six.

Through SQLAlchemy a commit was six waits on the server: BEGIN, the head row FOR UPDATE, the entries, their people,
the head moved, COMMIT. Each one is a trip over the socket and a wake-up of this process and of the server's; with
the server on the same two cores as the workers, those waits were most of an audited read's time (an audited
Patient read was 2.1 ms against 0.65 ms for the store's read on its own, 10 of its 15 waits the audit's).

Here the pooled connection, in autocommit so that psycopg sends no BEGIN of its own, sends BEGIN with the head's
lock as one simple query (the chain's next hash needs the head's, so that answer is awaited; a simple query takes
no parameters, which this one has none of), then one prepared statement that writes the entries, their people and
the new head (arrays unnested server-side), then COMMIT. psycopg's pipeline mode would have made two trips, but it
waits for the socket to be readable or writable, and a socket is nearly always writable: under 16 clients its
waiting spun on the CPU the server needed, and audited reads fell from about 900 a second to under 400. Putting
COMMIT inside the second query needs client-side binding, which did no better under load and gave up the
prepared plan (decision 0016).

The entries' JSON and hashes are made exactly as on SQLite (trail.entry_json, trail.chain_hash), so verify.py checks
both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError

from .rows import ENTRY_COLUMNS, Rows

BEGIN_AND_HEAD = "BEGIN; SELECT seq, entry_hash FROM audit_head WHERE id = 1 FOR UPDATE"

# One statement: data-modifying CTEs all run, whether or not the outer statement reads them. Values go in binary
# (%b): psycopg's text form of an array escapes each element with a regular expression, a third of the append's time.
APPEND = """
WITH entries AS (
    INSERT INTO audit_log (seq, recorded, action, outcome, user_ref, role, organisation, purpose, client_address,
                           entry, prev_hash, entry_hash)
    SELECT * FROM unnest(%(seq)b::bigint[], %(recorded)b::bigint[], %(action)b::text[], %(outcome)b::text[],
                         %(user_ref)b::text[], %(role)b::text[], %(organisation)b::text[], %(purpose)b::text[],
                         %(client_address)b::text[], %(entry)b::text[], %(prev_hash)b::text[], %(entry_hash)b::text[])
), people AS (
    INSERT INTO audit_subjects (seq, patient_id)
    SELECT * FROM unnest(%(person_seq)b::bigint[], %(person_id)b::text[])
)
UPDATE audit_head SET seq = %(head_seq)b, entry_hash = %(head_hash)b WHERE id = 1
"""


def append_batch(engine: Engine, chain: Callable[[int, str], Rows]) -> None:
    """Lock the head, hand its number and hash to `chain` (which takes the queued entries and returns their rows
    and people), write them and move the head, all in one transaction."""
    pooled = engine.raw_connection()  # checked out as any other: pre-pinged, returned (and rolled back) on close
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
            values: dict[str, Any] = {column: [row[column] for row in rows] for column in ENTRY_COLUMNS}
            values["person_seq"] = [seq for seq, names in people for _ in names]
            values["person_id"] = [name for _, names in people for name in names]
            values["head_seq"], values["head_hash"] = rows[-1]["seq"], rows[-1]["entry_hash"]
        with connection.cursor() as bound:
            bound.execute(APPEND, values, prepare=True)
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

"""The person index's own blocking table: which stored source Patients share a blocking key with a record.

Incremental matching needs the records that agree with an arriving one on any blocking key. Asking the store's
search index for each key costs one audited search per key, 50–1,000 ms each on a borough-sized store; this table
answers all keys in one local look-up of Patient ids, and the candidates themselves are then read through the
access gate in one `_id` search (decision 0201). It holds no identifiers in clear: each (key, value) is a 64-bit
hash, mapped to the Patient ids that have it.

The batch run rebuilds it from the records it has just read through the gate and tags it with the stored model's
version; each placement adds the arriving record. A table whose tag is not the stored model's (another store, an
older run) is not used: matching then falls back to the store's searches.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from . import blocking
from .record import LinkageRecord

# A look-up returns at most this many ids, those sharing the most keys with the record first: each candidate is
# read through the gate and scored, and a true match shares several keys (most blocks on a borough hold a few
# dozen records; the widest, postcode and year of birth, 135).
MAX_CANDIDATES = 100
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS keys (hash INTEGER NOT NULL, patient_id TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS keys_hash ON keys (hash)",
    "CREATE TABLE IF NOT EXISTS tag (value TEXT NOT NULL)",
)


def key_hashes(record: LinkageRecord, keys: Sequence[blocking.BlockingKey]) -> list[int]:
    """One signed 64-bit hash per blocking key the record has a value for (the key's position is hashed too)."""
    hashes = []
    for position, key in enumerate(keys):
        value = blocking.key_value(key, record)
        if value is not None:
            digest = hashlib.blake2b("\x1f".join((str(position), *value)).encode(), digest_size=8).digest()
            hashes.append(int.from_bytes(digest, "big", signed=True))
    return hashes


def default_path(database_url: str | URL, directory: Path = Path("var/person-index")) -> Path:
    """Beside a SQLite store's file; for other stores, a file named by the URL's hash (password left out)."""
    url = make_url(database_url) if isinstance(database_url, str) else database_url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).with_name(Path(url.database).name + ".person-index-keys")
    name = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return directory / f"{name}.sqlite3"


class CandidateKeys:
    """The blocking table in a SQLite file of its own (WAL, so the API's workers and a batch can share it)."""

    def __init__(self, path: Path, keys: Sequence[blocking.BlockingKey] = blocking.PREDICTION_KEYS) -> None:
        self.path = path
        self.keys = tuple(keys)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                conn.execute(statement)
            with conn:
                yield conn

    def rebuild(self, records: Iterable[LinkageRecord], tag: str) -> int:
        """Replace the table with these records' keys; returns the rows written."""
        rows = ((h, r.patient_id) for r in records for h in key_hashes(r, self.keys))
        with self._connection() as conn:
            conn.execute("DELETE FROM tag")
            conn.execute("DROP INDEX IF EXISTS keys_hash")
            conn.execute("DELETE FROM keys")
            written = conn.executemany("INSERT INTO keys (hash, patient_id) VALUES (?, ?)", rows).rowcount
            conn.execute("CREATE INDEX keys_hash ON keys (hash)")
            conn.execute("INSERT INTO tag (value) VALUES (?)", (tag,))
        return written

    def tag(self) -> str | None:
        if not self.path.exists():
            return None
        with self._connection() as conn:
            row = conn.execute("SELECT value FROM tag").fetchone()
        return str(row[0]) if row else None

    def add(self, record: LinkageRecord) -> None:
        """One newly placed record (a record already present keeps its old rows as well; the batch clears them)."""
        with self._connection() as conn:
            conn.executemany(
                "INSERT INTO keys (hash, patient_id) VALUES (?, ?)",
                [(h, record.patient_id) for h in key_hashes(record, self.keys)],
            )

    def candidates(self, record: LinkageRecord) -> list[str]:
        """Ids of the Patients sharing at least one blocking key with the record (not the record itself)."""
        hashes = key_hashes(record, self.keys)
        if not hashes:
            return []
        marks = ", ".join("?" for _ in hashes)
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT patient_id FROM keys WHERE hash IN ({marks}) AND patient_id != ? GROUP BY patient_id"
                f" ORDER BY count(*) DESC, patient_id LIMIT {MAX_CANDIDATES}",
                [*hashes, record.patient_id],
            ).fetchall()
        return [str(pid) for (pid,) in rows]

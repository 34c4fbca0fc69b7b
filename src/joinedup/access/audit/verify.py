"""`joinedup audit verify`: walk the chain with its keys, and report the first thing that was altered, inserted,
removed, reordered, rewritten without the key, or cut off below a signed checkpoint (decision 0312).

What is checked, entry by entry up to the head read at the start (entries appended while verifying are left for
the next run):
- the numbers run 1, 2, 3 … with no gap or repeat, each entry holds the hash of the one before, and its own hash is
  the HMAC under the key its key id names (the keyring, kept outside the database), or plain SHA-256 for the legacy
  segment written before the chain was keyed (only as a prefix, and only up to the keyring's `legacy_through`);
- the columns the pages filter on match the hashed JSON;
- the people index (audit_subjects rows, or on SQLite the FTS5 index read back through fts5vocab) names exactly
  the people the entry's hashed JSON names: a row deleted, changed or added is found;
- every signed checkpoint's entry still has the hash that was signed, and none lies beyond the trail's end;
- the head records the last entry.

Messages name entry numbers only, never a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby

import orjson
from sqlalchemy import Connection, Engine, func, select, text

from joinedup.store.governance_schema import audit_head, audit_log, audit_subjects

from .checkpoints import Checkpoint
from .keys import Keyring
from .people_index import FTS_TABLE
from .trail import GENESIS, chain_hash

COLUMNS_IN_ENTRY = {
    "recorded": "recorded",
    "action": "action",
    "outcome": "outcome",
    "user_ref": "user",
    "role": "role",
    "organisation": "organisation",
    "purpose": "purpose",
    "client_address": "client_address",
}
_VOCAB = "temp.audit_people_rows"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    message: str


class _Broken(Exception):
    """The first thing found wrong; its message is the verdict's."""


def _people_rows(conn: Connection, head_seq: int) -> Iterator[tuple[int, str]]:
    """(entry number, person) for every row of the people index, in entry order."""
    if conn.dialect.name == "sqlite":
        # A contentless FTS5 table keeps no rows to select; its vocabulary table lists each (token, entry) it holds.
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {_VOCAB} USING fts5vocab(main, {FTS_TABLE}, instance)"
        )
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(
            text(f"SELECT doc, term FROM {_VOCAB} WHERE doc <= :head ORDER BY doc").bindparams(head=head_seq)
        )
        for seq, token in result:
            yield int(seq), _person_of(str(token))
        return
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        select(audit_subjects.c.seq, audit_subjects.c.patient_id)
        .where(audit_subjects.c.seq <= head_seq)
        .order_by(audit_subjects.c.seq)
    )
    for seq, patient_id in result:
        yield int(seq), str(patient_id)


def _person_of(token: str) -> str:
    try:
        return bytes.fromhex(token).decode("utf-8")
    except ValueError:
        return f"\x00{token}"  # not a token the trail writes: it matches nobody, so it is reported as a change


class _PeopleIndex:
    """The index's rows grouped by entry, read alongside the chain (both in entry order)."""

    def __init__(self, rows: Iterator[tuple[int, str]]) -> None:
        self._groups = groupby(rows, key=lambda row: row[0])
        self._next: tuple[int, list[str]] | None = None
        self._advance()

    def _advance(self) -> None:
        group = next(self._groups, None)
        self._next = None if group is None else (group[0], [person for _, person in group[1]])

    def people_of(self, seq: int) -> list[str]:
        if self._next is not None and self._next[0] < seq:
            raise _Broken(f"the people index names entry {self._next[0]}, which is not in the trail: a row was added")
        if self._next is None or self._next[0] != seq:
            return []
        people = self._next[1]
        self._advance()
        return people

    def beyond(self) -> int | None:
        return None if self._next is None else self._next[0]


def verify(
    engine: Engine,
    keyring: Keyring | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Verdict:
    """The verdict on the whole trail. `keyring` None reads the deployment's keyring (never makes one);
    `progress(done, total)` is told every 10,000 entries."""
    if keyring is None:
        from joinedup.settings import Settings

        from .keys import read_keyring

        keyring = read_keyring(Settings().audit_key_file)
    walk = _Walk(keyring, sorted(checkpoints, key=lambda c: c.seq), progress)
    try:
        walk.run(engine)
    except _Broken as broken:
        return Verdict(False, walk.verified, str(broken))
    signed = {0: ", no signed checkpoints to check", 1: ", 1 signed checkpoint matches"}.get(
        len(checkpoints), f", {len(checkpoints)} signed checkpoints match"
    )
    return Verdict(True, walk.verified, f"audit trail intact: {walk.verified} entries{signed}")


class _Walk:
    def __init__(
        self, keyring: Keyring, checkpoints: list[Checkpoint], progress: Callable[[int, int], None] | None
    ) -> None:
        self.keyring = keyring
        self.checkpoints = checkpoints
        self.progress = progress
        self.verified = 0

    def run(self, engine: Engine) -> None:
        with engine.connect() as conn, engine.connect() as index_conn:
            head = conn.execute(select(audit_head.c.seq, audit_head.c.entry_hash).where(audit_head.c.id == 1)).one()
            # Entries up to the head read now: they were committed with it, so later appends cannot race the walk.
            rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
                select(audit_log).where(audit_log.c.seq <= head.seq).order_by(audit_log.c.seq)
            )
            people = _PeopleIndex(_people_rows(index_conn, int(head.seq)))
            running, pending = GENESIS, list(reversed(self.checkpoints))
            while pending and pending[-1].seq == 0:
                self._matches_checkpoint(pending.pop(), 0, GENESIS)
            keyed_from: int | None = None
            for row in rows:
                expected_seq = self.verified + 1
                if row.seq != expected_seq:
                    kind = "removed" if row.seq > expected_seq else "inserted"
                    raise _Broken(f"audit entry {expected_seq} was {kind} (found {row.seq} next)")
                if row.prev_hash != running:
                    raise _Broken(
                        f"audit entry {row.seq} does not follow entry {row.seq - 1}: an entry was inserted or changed"
                    )
                if row.key_id is None:
                    if keyed_from is not None or row.seq > self.keyring.legacy_through:
                        raise _Broken(
                            f"audit entry {row.seq} has no key id, but the chain was keyed from entry "
                            f"{keyed_from or self.keyring.legacy_through + 1}: it was rewritten without the key"
                        )
                    digest = chain_hash(running, row.entry)
                else:
                    keyed = self.keyring.hasher(row.key_id)
                    if keyed is None:
                        raise _Broken(
                            f"audit entry {row.seq} names key '{row.key_id}', which the keyring does not hold"
                        )
                    keyed_from = row.seq if keyed_from is None else keyed_from
                    digest = keyed(running, row.entry)
                if digest != row.entry_hash:
                    raise _Broken(f"audit entry {row.seq} was altered (its hash does not match)")
                body = orjson.loads(row.entry)
                if body.get("seq") != row.seq or any(
                    getattr(row, c) != body.get(k) for c, k in COLUMNS_IN_ENTRY.items()
                ):
                    raise _Broken(f"audit entry {row.seq} was altered (its columns differ from its hashed content)")
                if sorted(people.people_of(row.seq)) != sorted(body.get("patients") or []):
                    raise _Broken(
                        f"the people index of audit entry {row.seq} was changed: it no longer names exactly the "
                        "people the entry showed"
                    )
                while pending and pending[-1].seq == row.seq:
                    self._matches_checkpoint(pending.pop(), row.seq, row.entry_hash)
                running = row.entry_hash
                self.verified = row.seq
                if self.progress is not None and row.seq % 10_000 == 0:
                    self.progress(row.seq, int(head.seq))
            stray = people.beyond()  # reported after a cut-off end, which leaves its entries' people behind
            # In one statement, so one snapshot: entries appended since the walk began moved the head with them.
            head_now, last_row = conn.execute(
                select(
                    select(audit_head.c.seq).where(audit_head.c.id == 1).scalar_subquery(),
                    select(func.max(audit_log.c.seq)).scalar_subquery(),
                )
            ).one()
        if last_row is not None and head_now is not None and last_row > head_now:
            raise _Broken(f"audit entry {last_row} lies beyond the head (entry {head_now}): it was inserted")
        last = self.verified
        if pending:
            cut = pending[0]  # the furthest checkpoint: the trail ends before it
            raise _Broken(
                f"the audit trail ends at entry {last} but a checkpoint signed at {cut.time} covers entry {cut.seq}: "
                "entries were cut off the end"
            )
        if head.seq != last or head.entry_hash != running:
            raise _Broken(
                f"the audit trail ends at entry {last} but its head records entry {head.seq}: "
                "entries were cut off the end"
            )
        if stray is not None:
            raise _Broken(f"the people index names entry {stray}, which is not in the trail: a row was added")
        if self.progress is not None:
            self.progress(last, int(head.seq))

    @staticmethod
    def _matches_checkpoint(checkpoint: Checkpoint, seq: int, entry_hash: str) -> None:
        if checkpoint.head != entry_hash:
            raise _Broken(
                f"audit entry {seq} no longer matches the checkpoint signed at {checkpoint.time}: "
                "entries at or before it were rewritten"
            )

"""Appending to the audit trail and reading it back.

Each entry is canonical JSON (sorted keys) of who, role, organisation, purpose, what, when, from where, the people
it concerns and any detail; its hash is HMAC-SHA256, under a key kept outside the database (keys.py, decision
0312), over the previous entry's hash and that JSON, so altering, inserting or deleting any entry breaks the chain
(verify.py), and someone who can write to the database cannot make a broken chain whole again without the key.
Entries written before the chain was keyed hash with plain SHA-256 (`chain_hash`) and carry no key id.
`audit_head` holds the last number and hash: appends lock that one row (PostgreSQL) or run in SQLite's single
writer, so the chain has one order. On SQLite the server's
processes also queue for that writer on a kernel file lock (store/engine.py `writers_queue`, decision 0009).

Nothing here logs: the audit trail holds who looked at whom, which is itself personal data.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from joinedup.store.engine import is_postgres
from joinedup.store.governance_schema import audit_log

from ..context import AccessContext
from ..roles import catalogue
from . import postgres_append, sqlite_append
from .keys import Keyring, load_keyring
from .people_index import entries_about
from .rows import Rows

GENESIS = "0" * 64


def now_micros() -> int:
    return time.time_ns() // 1000


def chain_hash(prev_hash: str, entry_json: str) -> str:
    """The hash of an entry of the legacy (unkeyed) segment: plain SHA-256."""
    return hashlib.sha256(prev_hash.encode("ascii") + entry_json.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who did it, when it is not a gate call (sign-in, a failed sign-in, an account change)."""

    user: str
    role: str | None = None
    organisation: str | None = None
    purpose: str | None = None
    client_address: str | None = None
    via: str = "web"

    @classmethod
    def of(cls, ctx: AccessContext) -> Actor:
        return cls(ctx.user, ctx.role, ctx.organisation, ctx.purpose, ctx.client_address, ctx.via)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    recorded: int
    action: str
    outcome: str
    user: str
    role: str | None
    organisation: str | None
    purpose: str | None
    client_address: str | None
    what: list[str] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, seq: int, text: str) -> AuditEntry:
        data = orjson.loads(text)
        return cls(
            seq=seq,
            recorded=data["recorded"],
            action=data["action"],
            outcome=data["outcome"],
            user=data["user"],
            role=data.get("role"),
            organisation=data.get("organisation"),
            purpose=data.get("purpose"),
            client_address=data.get("client_address"),
            what=list(data.get("what") or []),
            patients=list(data.get("patients") or []),
            detail=dict(data.get("detail") or {}),
        )


def entry_json(seq: int, recorded: int, actor: Actor, action: str, outcome: str, what: Sequence[str],
               patients: Sequence[str], detail: dict[str, Any]) -> str:  # fmt: skip
    body = {
        "seq": seq,
        "recorded": recorded,
        "action": action,
        "outcome": outcome,
        "user": actor.user,
        "role": actor.role,
        "organisation": actor.organisation,
        "purpose": actor.purpose,
        "client_address": actor.client_address,
        "via": actor.via,
        "roles_version": catalogue().version,
        "what": list(what),
        "patients": sorted(set(patients)),
        "detail": detail,
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode("utf-8")


@dataclass
class _Pending:
    """One entry waiting for the next group commit, and how it went."""

    actor: Actor
    action: str
    outcome: str
    what: Sequence[str]
    people: list[str]
    detail: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    seq: int = 0
    error: BaseException | None = None


def _chain(seq: int, previous: str, batch: list[_Pending], keyring: Keyring) -> Rows:
    """The rows of a batch's entries, numbered and chained on from the head (its number and hash) under the
    keyring's current key, and the people of each; each pending entry learns its number."""
    key_id = keyring.current
    keyed = keyring.hasher(key_id)
    assert keyed is not None  # a keyring always holds its current key (keys.read_keyring)
    rows: list[dict[str, Any]] = []
    people: list[tuple[int, Sequence[str]]] = []
    for pending in batch:
        seq += 1
        recorded = now_micros()
        actor = pending.actor
        text = entry_json(
            seq, recorded, actor, pending.action, pending.outcome, pending.what, pending.people, pending.detail
        )
        digest = keyed(previous, text)
        rows.append(
            {
                "seq": seq,
                "recorded": recorded,
                "action": pending.action,
                "outcome": pending.outcome,
                "user_ref": actor.user,
                "role": actor.role,
                "organisation": actor.organisation,
                "purpose": actor.purpose,
                "client_address": actor.client_address,
                "entry": text,
                "prev_hash": previous,
                "entry_hash": digest,
                "key_id": key_id,
            }
        )
        people.append((seq, pending.people))
        pending.seq, previous = seq, digest
    return rows, people


class AuditTrail:
    """Appends entries by group commit: every call waits until its entry is committed (so nothing is answered
    unaudited), but the calls arriving together share one transaction. One entry per transaction made every read
    a write under the chain's single lock: 16 concurrent readers queued on it (serving fell from about a thousand
    reads a second to under a hundred). The first caller to find no commit under way leads: it commits everything
    queued, again until the queue is empty; the others wait for their entry's commit."""

    def __init__(self, engine: Engine, keyring: Keyring | None = None) -> None:
        """`keyring`: the keys to sign with; None reads the deployment's (JOINEDUP_AUDIT_KEY, JOINEDUP_AUDIT_KEY_FILE)
        at the first append, so that code which only reads the trail never needs it."""
        self.engine = engine
        self._keyring = keyring
        self._queue: list[_Pending] = []
        self._guard = threading.Lock()
        self._leading = False

    def keyring(self) -> Keyring:
        if self._keyring is None:
            from joinedup.settings import Settings  # here: settings are read only by a trail that appends

            settings = Settings()
            self._keyring = load_keyring(settings.audit_key, settings.audit_key_file, self._last_unkeyed)
        return self._keyring

    def _last_unkeyed(self) -> int:
        """The number of the last entry of the plain chain (0: none), for a keyring made now."""
        with self.engine.connect() as conn:
            last = conn.execute(select(func.max(audit_log.c.seq)).where(audit_log.c.key_id.is_(None))).scalar()
        return int(last or 0)

    def record(
        self,
        actor: Actor,
        action: str,
        outcome: str = "success",
        what: Sequence[str] = (),
        patients: Iterable[str] = (),
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry; returns its number once it is committed."""
        pending = _Pending(actor, action, outcome, list(what), sorted(set(patients)), detail or {})
        with self._guard:
            self._queue.append(pending)
            lead = not self._leading
            self._leading = True
        if lead:
            self._commit_queued()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.seq

    def _commit_queued(self) -> None:
        while True:
            with self._guard:
                if not self._queue:
                    self._leading = False
                    return
            batch: list[_Pending] = []

            def take_queued() -> list[_Pending]:
                nonlocal batch
                with self._guard:
                    batch, self._queue = self._queue, []
                return batch

            try:
                # The batch is taken once the chain's lock is held (the writers' queue and BEGIN IMMEDIATE on
                # SQLite, the head row on PostgreSQL), so everything that arrived while this process waited for the
                # other processes' commits goes into this one.
                keyring = self.keyring()

                def chained(seq: int, previous: str, keyring: Keyring = keyring) -> Rows:
                    return _chain(seq, previous, take_queued(), keyring)

                appender = postgres_append if is_postgres(self.engine) else sqlite_append
                appender.append_batch(self.engine, chained)
            except BaseException as error:  # every waiter learns that its entry was not recorded
                if not batch:
                    take_queued()
                for pending in batch:
                    pending.error = error
            finally:
                for pending in batch:
                    pending.done.set()

    def about_patient(self, patient_id: str, limit: int = 200) -> list[AuditEntry]:
        """Entries that concern this person, newest first (the resident's 'who has looked at my record')."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit_log.c.seq, audit_log.c.entry)
                .where(audit_log.c.seq.in_(entries_about(self.engine.dialect.name, patient_id)))
                .order_by(audit_log.c.seq.desc())
                .limit(limit)
            ).all()
        return [AuditEntry.from_json(r.seq, r.entry) for r in rows]

    def entries(
        self, since_seq: int = 0, limit: int | None = None, actions: Sequence[str] | None = None
    ) -> list[AuditEntry]:
        query = select(audit_log.c.seq, audit_log.c.entry).where(audit_log.c.seq > since_seq).order_by(audit_log.c.seq)
        if actions:
            query = query.where(audit_log.c.action.in_(list(actions)))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [AuditEntry.from_json(r.seq, r.entry) for r in conn.execute(query)]

    def between(self, start: int, end: int, actions: Sequence[str] | None = None) -> list[AuditEntry]:
        """Entries recorded in [start, end) (microseconds), oldest first: the IG console's period."""
        query = (
            select(audit_log.c.seq, audit_log.c.entry)
            .where(audit_log.c.recorded >= start, audit_log.c.recorded < end)
            .order_by(audit_log.c.seq)
        )
        if actions:
            query = query.where(audit_log.c.action.in_(list(actions)))
        with self.engine.connect() as conn:
            return [AuditEntry.from_json(r.seq, r.entry) for r in conn.execute(query)]

    def numbered(self, seqs: Sequence[int]) -> list[AuditEntry]:
        """These entries (the evidence behind an IG finding), oldest first."""
        query = select(audit_log.c.seq, audit_log.c.entry).where(audit_log.c.seq.in_(list(seqs)))
        with self.engine.connect() as conn:
            return [AuditEntry.from_json(r.seq, r.entry) for r in conn.execute(query.order_by(audit_log.c.seq))]

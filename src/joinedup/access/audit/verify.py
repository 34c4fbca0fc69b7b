"""`joinedup audit verify`: walk the chain and report the first entry that was altered, inserted or removed."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Engine, select

from joinedup.store.governance_schema import audit_head, audit_log

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


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    message: str


def verify(engine: Engine) -> Verdict:
    expected_seq, running = 1, GENESIS
    with engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
            select(audit_log).order_by(audit_log.c.seq)
        )
        for row in rows:
            if row.seq != expected_seq:
                kind = "removed" if row.seq > expected_seq else "inserted"
                return Verdict(False, expected_seq - 1, f"audit entry {expected_seq} was {kind} (found {row.seq} next)")
            if row.prev_hash != running:
                return Verdict(
                    False,
                    expected_seq - 1,
                    f"audit entry {row.seq} does not follow entry {row.seq - 1}: an entry was inserted or changed",
                )
            if chain_hash(running, row.entry) != row.entry_hash:
                return Verdict(False, expected_seq - 1, f"audit entry {row.seq} was altered (its hash does not match)")
            body = orjson.loads(row.entry)
            if body.get("seq") != row.seq or any(getattr(row, c) != body.get(k) for c, k in COLUMNS_IN_ENTRY.items()):
                return Verdict(
                    False,
                    expected_seq - 1,
                    f"audit entry {row.seq} was altered (its columns differ from its hashed content)",
                )
            running = row.entry_hash
            expected_seq += 1
        head = conn.execute(select(audit_head.c.seq, audit_head.c.entry_hash).where(audit_head.c.id == 1)).one()
    last = expected_seq - 1
    if head.seq != last or head.entry_hash != running:
        return Verdict(
            False,
            last,
            f"the audit trail ends at entry {last} but its head records entry {head.seq}: entries were cut off the end",
        )
    return Verdict(True, last, f"audit trail intact: {last} entries")

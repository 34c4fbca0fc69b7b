"""Rate limits on guessing: failed sign-ins and failed token requests, per account (or client) and per address.

A sliding window of failure times per key, kept in the database so that every worker process counts the same
failures (the limit is the setting, not the setting times the workers). The keys are the name tried (known or
not, so the limit answers the same for an unknown user as for a real one — no enumeration) and the client
address; only their SHA-256 is stored. Once a key has `limit` failures inside the window, further attempts are
refused (429 with Retry-After) before any password is checked. The audit trail remains the record of each attempt.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterable

from sqlalchemy import Engine, delete, insert, select

from joinedup.store.governance_schema import rate_limit_failures as failures

MICROS = 1_000_000


def hashed_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Throttle:
    def __init__(self, engine: Engine, scope: str, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.scope = scope  # 'sign-in' or 'token': an address's failures are counted per door
        self._clock = clock

    def retry_after(self, limits: Iterable[tuple[str, int]], window: float) -> int | None:
        """Seconds until every key is under its limit again, or None when none is over (limit 0: no limit)."""
        now = int(self._clock() * MICROS)
        since = now - int(window * MICROS)
        wait = 0
        with self.engine.connect() as conn:
            for key, limit in limits:
                if limit <= 0:
                    continue
                # The limit-th most recent failure in the window: the key is free again once it leaves the window.
                oldest_counted = conn.execute(
                    select(failures.c.failed_at)
                    .where(
                        failures.c.scope == self.scope,
                        failures.c.key_hash == hashed_key(key),
                        failures.c.failed_at > since,
                    )
                    .order_by(failures.c.failed_at.desc())
                    .offset(limit - 1)
                    .limit(1)
                ).scalar()
                if oldest_counted is not None:
                    wait = max(wait, int(oldest_counted) + int(window * MICROS) - now)
        return max(1, math.ceil(wait / MICROS)) if wait > 0 else None

    def failed(self, keys: Iterable[str], window: float = 24 * 3600) -> None:
        """Count a failure against each key; failures older than `window` (longer than any limit's) are dropped."""
        now = int(self._clock() * MICROS)
        rows = [{"scope": self.scope, "key_hash": hashed_key(k), "failed_at": now} for k in keys]
        with self.engine.begin() as conn:
            if rows:
                conn.execute(insert(failures), rows)
            conn.execute(delete(failures).where(failures.c.failed_at < now - int(window * MICROS)))

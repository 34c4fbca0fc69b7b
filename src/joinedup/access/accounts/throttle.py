"""Rate limits on guessing: failed sign-ins and failed token requests, per account (or client) and per address.

A sliding window of failure times per key, in this process's memory: the keys are the name tried (known or not,
so the limit answers the same for an unknown user as for a real one — no enumeration) and the client address.
Once a key has `limit` failures inside the window, further attempts are refused (429 with Retry-After) before any
password is checked. In memory because a limit is a brake, not a record (the audit trail is the record): with
several worker processes each keeps its own count, so the effective limit is the setting times the workers.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, limits: Iterable[tuple[str, int]], window: float) -> int | None:
        """Seconds until every key is under its limit again, or None when none is over (limit 0: no limit)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key, limit in limits:
                times = self._recent(key, window, now)
                if limit > 0 and len(times) >= limit:
                    wait = max(wait, times[len(times) - limit] + window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

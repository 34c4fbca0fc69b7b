"""The rate limits count failures in the database, so every worker process sees the same count (both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from joinedup.access.accounts.throttle import MICROS, Throttle, hashed_key
from joinedup.store.fhir_store import FhirStore
from joinedup.store.governance_schema import rate_limit_failures


def failures_in_window(store: FhirStore, key: str, now: float, window: float) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    rate_limit_failures.c.key_hash == hashed_key(key),
                    rate_limit_failures.c.failed_at > int((now - window) * MICROS),
                )
            ).scalar_one()
        )


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_two_processes_share_one_count_and_the_window_slides(store: FhirStore) -> None:
    clock = Clock()
    worker_one = Throttle(store.engine, "sign-in", clock)
    worker_two = Throttle(store.engine, "sign-in", clock)  # another process: nothing shared but the database
    limits = [("account:dr.known", 3), ("address:10.0.0.9", 50)]
    worker_one.failed(["account:dr.known", "address:10.0.0.9"])
    clock.now += 10
    worker_two.failed(["account:dr.known", "address:10.0.0.9"])
    assert worker_one.retry_after(limits, 60) is None
    clock.now += 10
    worker_one.failed(["account:dr.known", "address:10.0.0.9"])
    assert worker_two.retry_after(limits, 60) == 40  # the first of the three leaves the window in 40 s
    clock.now += 41
    assert worker_two.retry_after(limits, 60) is None
    assert failures_in_window(store, "account:dr.known", clock.now, 60) == 2


def test_doors_are_counted_apart_and_keys_are_not_kept_in_clear(store: FhirStore) -> None:
    clock = Clock()
    sign_in, token = Throttle(store.engine, "sign-in", clock), Throttle(store.engine, "token", clock)
    for _ in range(2):
        sign_in.failed(["address:10.0.0.9"])
    assert sign_in.retry_after([("address:10.0.0.9", 2)], 60) is not None
    assert token.retry_after([("address:10.0.0.9", 2)], 60) is None
    assert sign_in.retry_after([("address:10.0.0.9", 0)], 60) is None  # 0: no limit
    with store.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(rate_limit_failures.select()).all()]
    assert stored and not any("10.0.0.9" in str(value) for row in stored for value in row)


def test_old_failures_are_dropped(store: FhirStore) -> None:
    clock = Clock()
    throttle = Throttle(store.engine, "token", clock)
    throttle.failed(["client:old"])
    clock.now += 2 * 24 * 3600
    throttle.failed(["client:new"])
    with store.engine.connect() as conn:
        assert conn.execute(rate_limit_failures.select()).all().__len__() == 1

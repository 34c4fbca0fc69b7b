"""The hot handlers' thread pool: its size comes from the settings, and it never runs more calls at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from joinedup.api import threads
from joinedup.app import create_app
from joinedup.settings import Settings


@pytest.fixture(autouse=True)
def _default_size_after() -> Iterator[None]:
    yield
    threads.configure(threads.DEFAULT_THREADS)


def _most_at_once(calls: int) -> int:
    """Run `calls` blocking calls through in_thread together; how many were inside at the same moment."""
    inside = 0
    most = 0
    guard = threading.Lock()

    def blocking() -> None:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)
        with guard:
            inside -= 1

    async def run() -> None:
        await asyncio.gather(*(threads.in_thread(blocking) for _ in range(calls)))

    asyncio.run(run())
    return most


def test_the_pool_runs_at_most_its_size_at_once() -> None:
    threads.configure(2)
    assert _most_at_once(6) == 2
    threads.configure(3)  # a new size replaces the pool made with the old one
    assert _most_at_once(6) == 3


def test_create_app_sizes_the_pool_from_the_settings(tmp_path: Path) -> None:
    create_app(Settings(database_url=f"sqlite:///{tmp_path}/threads.sqlite3", environment="test", api_threads=1))
    assert _most_at_once(4) == 1


def test_a_pool_of_no_threads_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        threads.configure(0)
    with pytest.raises(ValueError):
        Settings(api_threads=0)

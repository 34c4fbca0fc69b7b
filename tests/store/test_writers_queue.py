"""The SQLite writers' queue: a kernel file lock beside the database that server processes take before writing."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from joinedup.store.engine import make_engine, writers_queue


def _held_elsewhere(lock_file: Path) -> bool:
    descriptor = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def test_the_queue_is_held_for_the_block_and_let_go_after(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    lock_file = tmp_path / "store.sqlite3-writers.lock"
    with writers_queue(engine):
        assert _held_elsewhere(lock_file)
    assert not _held_elsewhere(lock_file)
    with pytest.raises(RuntimeError), writers_queue(engine):
        raise RuntimeError("a failed write lets go of the queue too")
    assert not _held_elsewhere(lock_file)
    engine.dispose()

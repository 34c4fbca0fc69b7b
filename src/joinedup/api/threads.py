"""A blocking call off the event loop for the hottest handlers: a small plain thread pool instead of anyio's.

Starlette's run_in_threadpool (anyio.to_thread.run_sync) takes a capacity-limiter token inside a cancel scope and
looks up run-scoped variables on every call: about 120 Python calls on the event loop per hop, ≈0.1 ms of a read's
CPU (decision 0010). `loop.run_in_executor` does the same job in a handful. The calling context's contextvars go
with the call, as with anyio. As with anyio's hop, the handler waits for the call to finish, so "audited before
answered" holds; if the waiting task is cancelled the call still runs to its end.

The pool is small (`api_threads`, two by default) because the work it runs is mostly Python holding the GIL: with
anyio's forty, eight requests of one worker ran at once and took turns at the GIL, each finishing late (decision
0018: Tasks by owner and status, p95 on SQLite 40–74 ms with forty threads and 34–56 with two, same hour). Two
rather than one so that one slow search leaves the worker's other requests a thread, and so that on PostgreSQL one
thread's wait for the server is another's turn at the CPU. Writes, exports and the web pages keep anyio's pool and
do not queue behind these.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from joinedup.settings import Settings

T = TypeVar("T")
DEFAULT_THREADS: int = Settings.model_fields["api_threads"].default  # for a pool used before any app is made

_threads = DEFAULT_THREADS  # the size of the pool, made or to be made: configure drops a pool of another size
_pool: ThreadPoolExecutor | None = None
_pool_guard = threading.Lock()


def configure(threads: int) -> None:
    """Size the pool (create_app, from the settings). A pool already made with another size is let go: its
    threads finish what they hold and end, and the next call makes one of the new size."""
    global _threads, _pool
    if threads < 1:
        raise ValueError("api_threads must be at least 1")
    with _pool_guard:
        if threads != _threads and _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None
        _threads = threads


def _executor() -> ThreadPoolExecutor:
    global _pool
    pool = _pool
    if pool is None:
        with _pool_guard:
            if _pool is None:  # made on first use, so in the worker process that uses it
                _pool = ThreadPoolExecutor(_threads, thread_name_prefix="joinedup-api")
            pool = _pool
    return pool


async def in_thread(function: Callable[..., T], *args: object) -> T:
    call = functools.partial(contextvars.copy_context().run, function, *args)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)

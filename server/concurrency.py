"""How the server shares a process: CPU-heavy work off the event loop when gunicorn runs the
gevent worker (``deploy/gunicorn-direct.conf.py``), and work that requests arriving together
do once for all of them (``Coalescer``).

Under the gevent worker every request is a greenlet on one OS thread per process: waiting on a
socket (the client, PostgreSQL through psycopg, S3 through boto3) lets the other greenlets run,
but a computation holds them all until it ends. ``offload(fn, *args)`` runs such work (an argon2
password check, ~120 ms of CPU; a printed form's layout) in a small pool of real threads and
waits for it cooperatively, so the loop goes on serving meanwhile; argon2's C code releases the
GIL, so a check costs the other requests nothing. Anywhere else (gthread, the werkzeug server,
the worker, the CLI, tests) there is no loop to keep free and ``offload`` is a plain call.

What is offloaded must not touch the request (Flask's context lives in the greenlet), a
database session or a socket made in the loop's thread (gevent's sockets belong to the thread
that made them): pure computations over values, as ``server.auth`` and
``server.printing.render`` pass.

``cooperative()`` tells whether this process runs greenlets on a patched standard library and
psycopg waits on the loop (the worker logs it at start; the direct deployment's test asserts it).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# Threads for offloaded work in a gevent process (apart from gevent's own pool, which resolves
# host names: a long print must not hold up a DNS lookup). Each argon2 check takes 64 MiB while
# it runs, so this also bounds that memory.
OFFLOAD_THREADS = int(os.environ.get("OFFLOAD_THREADS", "4"))

_pool = None
_pool_pid = None


def under_gevent() -> bool:
    """Whether gevent has patched this process's threads (the gunicorn gevent worker did)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def offload(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, in a real thread while this greenlet waits when running under
    gevent, else right here. Exceptions are raised to the caller as from a plain call."""
    if not under_gevent():
        return fn(*args, **kwargs)
    return _threadpool().apply(fn, args, kwargs)


def _threadpool():
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():  # a pool's threads do not survive a fork
        from gevent.threadpool import ThreadPool

        _pool, _pool_pid = ThreadPool(OFFLOAD_THREADS), os.getpid()
    return _pool


def cooperative() -> dict[str, bool]:
    """What waits on the event loop in this process: the patched standard library (sockets,
    threads, ssl) and psycopg (which picks its wait function when first imported: imported
    before the patch, it would block the whole process on every query)."""
    patched = under_gevent()
    waiting = sys.modules.get("psycopg.waiting")
    # not imported yet: it will see the patch when it is
    psycopg_green = patched and (waiting is None
                                 or waiting.wait is not getattr(waiting, "wait_c", None))
    monkey = sys.modules.get("gevent.monkey")
    return {"gevent": patched,
            "ssl": bool(monkey and monkey.is_module_patched("ssl")),
            "psycopg": psycopg_green}


@dataclass(eq=False)
class _Call(Generic[K, T]):
    key: K
    item: Any
    done: bool = False
    value: T | None = None
    error: BaseException | None = None


class Coalescer(Generic[K, T]):
    """Work that the threads (or greenlets) of a process ask for at the same time, done in one
    call of ``run_batch`` for all of them: *group commit*. ``coalescer(key, item)`` returns what
    ``run_batch`` gave for ``key``, or raises what it raised.

    A call made while no batch runs runs at once, as a batch of one (so a lone request, or a
    test calling the app one request at a time, waits for nobody). Calls made while a batch
    runs wait for it to end; then one of them leads the next batch, which takes every call
    waiting by then (at most ``limit``) — the leader's own among them — and the others wait
    for its result. ``run_batch(items)`` gets ``{key: item}`` and returns ``{key: value}``; a
    value that is an exception is raised in its caller only, and so is a ``KeyError`` for a key
    left out; if ``run_batch`` raises, every caller of that batch gets the exception.

    The batch runs in the leader's thread, and so in its context (``contextvars``): what it
    does must not depend on whose request a key came from, nor call the coalescer again (it
    would wait for itself).
    """

    def __init__(self, run_batch: Callable[[dict[K, Any]], Mapping[K, T]], limit: int = 64):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._run_batch = run_batch
        self._limit = limit
        self._changed = threading.Condition()
        self._waiting: list[_Call[K, T]] = []
        self._running = False

    @property
    def waiting(self) -> int:
        """How many calls wait for a batch now (the next batch's, at most ``limit``)."""
        with self._changed:
            return len(self._waiting)

    def __call__(self, key: K, item: Any = None) -> T:
        call: _Call[K, T] = _Call(key, item)
        with self._changed:
            self._waiting.append(call)
            while self._running and not call.done:
                self._changed.wait()
            lead = not call.done  # no batch runs: this call leads the next one
            if lead:
                self._running = True
                self._waiting.remove(call)
                batch = [call, *self._waiting[:self._limit - 1]]
                del self._waiting[:self._limit - 1]
        if lead:
            self._run(batch)
        if call.error is not None:
            raise call.error
        return call.value  # type: ignore[return-value]

    def _run(self, batch: list[_Call[K, T]]) -> None:
        try:
            values = self._run_batch({call.key: call.item for call in batch})
            for call in batch:
                value = values[call.key] if call.key in values else KeyError(call.key)
                if isinstance(value, BaseException):
                    call.error = value
                else:
                    call.value = value
        except BaseException as error:  # every caller of the batch hears of it
            for call in batch:
                call.error = error
        finally:
            with self._changed:
                for call in batch:
                    call.done = True
                self._running = False
                self._changed.notify_all()

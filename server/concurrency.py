"""How the server shares a process: CPU-heavy work off the event loop when gunicorn runs the
gevent worker (``deploy/gunicorn-direct.conf.py``).

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
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

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

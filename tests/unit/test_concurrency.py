"""server.concurrency: CPU work off the gevent loop, a plain call elsewhere; and the check that
psycopg waits on the loop (deploy/gunicorn-direct.conf.py refuses a worker where it does not).

Under gevent the standard library is patched for the whole process, so those cases run in a
fresh interpreter of their own."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from server.concurrency import cooperative, offload, under_gevent
from server.config import PROJECT_ROOT


def test_without_gevent_offload_is_a_plain_call_in_this_thread():
    assert not under_gevent()
    assert offload(threading.get_ident) == threading.get_ident()
    with pytest.raises(ZeroDivisionError):
        offload(lambda: 1 / 0)
    assert cooperative() == {"gevent": False, "ssl": False, "psycopg": False}


def _run(script: str) -> dict:
    found = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True,
                           text=True, timeout=120, env={"PYTHONPATH": str(PROJECT_ROOT)})
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout.strip().splitlines()[-1])


def test_under_gevent_offloaded_work_runs_in_a_thread_while_the_loop_goes_on():
    """Eight argon2 checks at once (~120 ms of CPU each): offloaded, a greenlet ticking every
    5 ms is never held for long; called on the loop, it waits for them all."""
    found = _run("""
from gevent import monkey; monkey.patch_all()
import json, threading, time, gevent
from argon2 import PasswordHasher
from server.concurrency import cooperative, offload
hasher = PasswordHasher()
digest = hasher.hash("secret")
result = {"cooperative": cooperative()}
result["thread"] = offload(threading.get_ident) != threading.get_ident()
try:
    offload(hasher.verify, digest, "wrong")
except Exception as error:
    result["raised"] = type(error).__name__
for mode in ("offload", "loop"):
    ticks = []
    def tick():
        while True:
            ticks.append(time.perf_counter()); gevent.sleep(0.005)
    ticker = gevent.spawn(tick); gevent.sleep(0.05)
    check = ((lambda: offload(hasher.verify, digest, "secret")) if mode == "offload"
             else (lambda: hasher.verify(digest, "secret")))
    gevent.joinall([gevent.spawn(check) for _ in range(8)])
    gevent.sleep(0.05); ticker.kill()
    result[mode] = max(b - a for a, b in zip(ticks, ticks[1:]))
print(json.dumps(result))
""")
    assert found["cooperative"] == {"gevent": True, "ssl": True, "psycopg": True}
    assert found["thread"] is True
    assert found["raised"] == "VerifyMismatchError"
    assert found["loop"] > 0.5  # held for the eight checks' sum (~1 s)
    assert found["offload"] < found["loop"] / 4, found  # relative: the machine may be busy


def test_psycopg_imported_before_the_patch_is_found_not_cooperative():
    """What a preloaded app would do: psycopg then keeps its blocking wait."""
    found = _run("""
import json, psycopg
from gevent import monkey; monkey.patch_all()
from server.concurrency import cooperative
print(json.dumps(cooperative()))
""")
    assert found == {"gevent": True, "ssl": True, "psycopg": False}

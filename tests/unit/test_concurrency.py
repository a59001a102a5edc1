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

from server.concurrency import Coalescer, cooperative, offload, under_gevent
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


# --- Coalescer: group commit ------------------------------------------------------------------


class _Recorder:
    """A ``run_batch`` that records each batch's keys and its thread, and can be held until
    released (to make calls arrive while a batch runs)."""

    def __init__(self, hold_first: bool = False, fail: set | None = None,
                 leave_out: set | None = None, refuse: set | None = None):
        self.batches: list[list] = []
        self.threads: list[str] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.fail = fail or set()
        self.leave_out = leave_out or set()
        self.refuse = refuse or set()  # keys whose value is an exception

    def __call__(self, items: dict) -> dict:
        self.batches.append(sorted(items))
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.release.wait(10)
        if self.fail & set(items):
            raise RuntimeError(f"batch {sorted(items)} failed")
        return {key: ValueError(key) if key in self.refuse else f"{key}:{item}"
                for key, item in items.items() if key not in self.leave_out}


def _waiting(coalescer, count: int) -> None:
    """Wait until ``count`` calls wait for the running batch."""
    for _ in range(1000):
        if coalescer.waiting >= count:
            return
        threading.Event().wait(0.005)
    raise AssertionError(f"{count} calls never waited")


def _in_threads(coalescer, keys) -> tuple[dict, dict, list]:
    results, errors, threads = {}, {}, []

    def call(key):
        try:
            results[key] = coalescer(key, f"item{key}")
        except Exception as error:  # noqa: BLE001 - what the caller heard
            errors[key] = error

    for key in keys:
        thread = threading.Thread(target=call, args=(key,), name=f"caller-{key}")
        thread.start()
        threads.append(thread)
    return results, errors, threads


def _during_a_batch(coalescer, recorder, keys) -> tuple[dict, dict, dict]:
    """Call 1 (its batch held), then ``keys`` while it runs; release it once they all wait.
    What call 1 got, and what each of ``keys`` got or raised."""
    first, _, first_threads = _in_threads(coalescer, [1])
    assert recorder.started.wait(10)
    results, errors, threads = _in_threads(coalescer, keys)
    _waiting(coalescer, len(keys))
    recorder.release.set()
    for thread in first_threads + threads:
        thread.join(10)
    return first, results, errors


def test_a_lone_call_runs_a_batch_of_one_in_its_own_thread():
    recorder = _Recorder()
    coalescer = Coalescer(recorder)

    assert coalescer(7, "seven") == "7:seven"
    assert coalescer(8, "eight") == "8:eight"
    assert recorder.batches == [[7], [8]]
    assert recorder.threads == [threading.current_thread().name] * 2


def test_calls_arriving_during_a_batch_are_taken_together_in_the_next_one():
    recorder = _Recorder(hold_first=True)
    coalescer = Coalescer(recorder)
    first, results, errors = _during_a_batch(coalescer, recorder, [2, 3, 4])

    assert recorder.batches == [[1], [2, 3, 4]]
    assert recorder.threads[1] in {"caller-2", "caller-3", "caller-4"}  # one of them led it
    assert first == {1: "1:item1"}
    assert results == {2: "2:item2", 3: "3:item3", 4: "4:item4"}
    assert errors == {}


def test_a_batch_takes_at_most_its_limit_and_the_rest_follow():
    recorder = _Recorder(hold_first=True)
    coalescer = Coalescer(recorder, limit=2)
    _, results, errors = _during_a_batch(coalescer, recorder, [2, 3, 4, 5, 6])

    assert recorder.batches[0] == [1]
    assert all(len(batch) <= 2 for batch in recorder.batches)
    assert sorted(key for batch in recorder.batches for key in batch) == [1, 2, 3, 4, 5, 6]
    assert results == {key: f"{key}:item{key}" for key in (2, 3, 4, 5, 6)} and errors == {}


def test_a_failing_batch_reaches_each_of_its_callers_and_the_next_batch_runs():
    recorder = _Recorder(hold_first=True, fail={3})
    coalescer = Coalescer(recorder)
    _, results, errors = _during_a_batch(coalescer, recorder, [2, 3])

    assert recorder.batches == [[1], [2, 3]]
    assert results == {}
    assert set(errors) == {2, 3}
    assert all(isinstance(error, RuntimeError) for error in errors.values())
    assert coalescer(9, "nine") == "9:nine"  # nothing is left running


@pytest.mark.parametrize(("given", "failing", "error"), [
    ({"leave_out": {3}}, 3, KeyError),  # a key the batch leaves out
    ({"refuse": {2}}, 2, ValueError),  # an exception given as the key's value
])
def test_a_key_without_a_value_raises_in_its_caller_only(given, failing, error):
    recorder = _Recorder(hold_first=True, **given)
    coalescer = Coalescer(recorder)
    _, results, errors = _during_a_batch(coalescer, recorder, [2, 3])

    (other,) = {2, 3} - {failing}
    assert results == {other: f"{other}:item{other}"}
    assert list(errors) == [failing] and isinstance(errors[failing], error)


def test_a_coalescer_needs_room_for_one_call():
    with pytest.raises(ValueError):
        Coalescer(lambda items: items, limit=0)

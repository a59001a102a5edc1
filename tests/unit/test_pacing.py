"""When the take-in worker gives way to the phones (server.intake.worker.Pacing.waits)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.intake.worker import Pacing

PACING = Pacing(busy_rate=20, max_backlog=5000, max_lag=30.0)


def test_a_young_burst_is_waited_out():
    assert PACING.waits(recent=64, backlog=800, oldest_waited=3.0)


def test_a_trickle_is_taken_in_as_it_arrives():
    assert not PACING.waits(recent=19, backlog=5, oldest_waited=0.2)


def test_a_large_backlog_is_taken_in_even_during_a_burst():
    assert not PACING.waits(recent=64, backlog=5000, oldest_waited=1.0)


def test_pacing_off_never_waits():
    assert not Pacing(busy_rate=0).waits(recent=1000, backlog=10, oldest_waited=0.0)


def test_a_steady_rate_at_the_busy_rate_does_not_stall_the_take_in():
    """20/s for good, as a soak through the proxy sent: with the backlog alone as the limit,
    the worker waited until 5000 were waiting (four minutes behind) and stayed there. Once the
    oldest has waited max_lag seconds, it takes in."""
    assert not PACING.waits(recent=20, backlog=600, oldest_waited=30.0)


def simulate(pacing: Pacing, rate: int, seconds: int, batch: int = 100) -> float:
    """The worst wait of a submission when ``rate`` arrive every second for ``seconds`` and
    the worker, when it does not wait, takes in up to ``batch`` a second (oldest first)."""
    waiting: list[int] = []  # arrival second of each waiting submission
    worst = 0.0
    for now in range(seconds):
        waiting += [now] * rate
        oldest = now - waiting[0] if waiting else 0
        if waiting and not pacing.waits(rate, len(waiting), oldest):
            taken, waiting = waiting[:batch], waiting[batch:]
            worst = max(worst, max(now - t for t in taken))
    return max(worst, (seconds - waiting[0]) if waiting else 0)


@given(st.integers(min_value=20, max_value=90), st.integers(min_value=5, max_value=60))
def test_under_any_steady_rate_the_registry_lags_by_about_max_lag(rate, max_lag):
    pacing = Pacing(busy_rate=20, max_backlog=5000, max_lag=float(max_lag))
    assert simulate(pacing, rate, seconds=600) <= max_lag + 2


def test_the_backlog_limit_alone_lets_a_steady_rate_lag_for_minutes():
    """Why max_lag exists: without it (as before) 20/s for ten minutes kept submissions
    waiting about max_backlog / rate seconds."""
    assert simulate(Pacing(busy_rate=20, max_backlog=5000, max_lag=float("inf")), 20, 600) >= 240


@given(recent=st.integers(min_value=20, max_value=1000), backlog=st.integers(min_value=0),
       waited=st.floats(min_value=0, max_value=1e6))
def test_a_helper_waits_out_every_burst_however_large_or_old_its_backlog(recent, backlog, waited):
    """``--processes``' extra processes leave a burst to the phones and the main process: at
    most one process takes in while phones are sending."""
    assert PACING.waits(recent, backlog, waited, helper=True)


def test_a_helper_takes_in_a_trickle_and_with_pacing_off():
    assert not PACING.waits(recent=19, backlog=9000, oldest_waited=100.0, helper=True)
    assert not Pacing(busy_rate=0).waits(recent=1000, backlog=10, oldest_waited=0.0, helper=True)

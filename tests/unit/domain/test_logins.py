"""The password policy and the failed-login limit (server.domain.logins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.logins import locks_now, password_problem, seconds_locked

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


@pytest.mark.parametrize(("password", "code"), [
    ("a-long-password", None),
    ("123456789", "PASSWORD_WEAK"),  # 9 characters
    ("x" * 129, "PASSWORD_WEAK"),
    ("Zhang.San1", "PASSWORD_WEAK"),  # the username, in other case
    ("密码要足够长才安全好吗", None),  # ten Chinese characters
    ("13812345678", "PASSWORD_WEAK"),  # digits alone: a phone number
    ("aaaaaaaaaaaa", "PASSWORD_WEAK"),  # too few different characters
    ("ababababab", "PASSWORD_WEAK"),
    ("Password123", "PASSWORD_WEAK"),  # a common password, in any case
    ("fangpin-demo", "PASSWORD_WEAK"),  # the demo's, printed in the README
])
def test_a_new_password_is_long_not_the_username_nor_simple(password, code):
    """Issue 15 (7): the minimum password policy."""
    assert password_problem(password, "zhang.san1") == code


def test_a_key_below_its_limit_is_not_locked():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2)]
    assert seconds_locked(failures, 3, WINDOW, NOW) is None


def test_a_key_at_its_limit_waits_until_its_oldest_failure_leaves_the_window():
    failures = [NOW - timedelta(minutes=10), NOW - timedelta(minutes=1), NOW]
    assert seconds_locked(failures, 3, WINDOW, NOW) == 5 * 60


def test_failures_older_than_the_window_do_not_count():
    failures = [NOW - timedelta(minutes=20), NOW - timedelta(minutes=15), NOW]
    assert seconds_locked(failures, 2, WINDOW, NOW) is None


def test_over_the_limit_it_waits_for_enough_failures_to_leave():
    """Four failures against a limit of two: free when only one remains in the window."""
    failures = [NOW - timedelta(minutes=m) for m in (14, 12, 3, 1)]
    assert seconds_locked(failures, 2, WINDOW, NOW) == 12 * 60


def test_a_limit_of_zero_turns_the_limit_off():
    assert seconds_locked([NOW] * 50, 0, WINDOW, NOW) is None
    assert not locks_now(49, 0)


def test_the_failure_that_reaches_the_limit_locks():
    assert [locks_now(before, 3) for before in range(4)] == [False, False, True, False]

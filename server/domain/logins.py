"""Logging in: the password policy and the limit on failed logins.

Password policy (new passwords: created, reset or changed): at least ``MIN_PASSWORD_LENGTH``
characters, at most ``MAX_PASSWORD_LENGTH``; not the username itself; not digits alone (a phone
or an ID number, a date); at least ``MIN_DISTINCT_CHARACTERS`` different characters
(``aaaaaaaaaa``, ``1212121212``); not one of the passwords every guessing list starts with
(``COMMON_PASSWORDS``, compared without case). Length is what counts most against guessing; the
failed-login limit below does the rest.

Failed-login limit: a key (an account name, a client address) that has ``limit`` failed logins
within the last ``window`` is locked until the oldest of them leaves the window; then one more
attempt is allowed, and so on (a sliding window). Only failures count; while a key is locked,
its attempts are refused before any password is checked, so they are not failures and the lock
ends on time. Both the account's and the address's keys are checked: guessing many passwords
for one account from many addresses, or one password for many accounts from one address, is
limited either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 4
# Ten characters or more, at the head of the leaked-password lists (and this project's demo
# password, printed in its README).
COMMON_PASSWORDS = frozenset({
    "password12", "password123", "password1234", "passw0rd123", "1q2w3e4r5t", "1qaz2wsx3edc",
    "qwertyuiop", "qwerty1234", "qwerty12345", "asdfghjkl;", "zxcvbnm123", "abcdefghij",
    "abc1234567", "abcd123456", "a123456789", "aa12345678", "a1b2c3d4e5", "iloveyou12",
    "woaini1314", "woaini520", "admin12345", "admin123456", "administrator", "letmein123",
    "welcome123", "p@ssw0rd123", "fangpin-demo", "fangpin123", "changeme123",
})


def password_problem(password: str, username: str) -> str | None:
    """The catalogue code of what is wrong with a new password, or None when it is good."""
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        return "PASSWORD_WEAK"
    folded = password.strip().casefold()
    if folded == username.strip().casefold() or folded in COMMON_PASSWORDS:
        return "PASSWORD_WEAK"
    if password.isdigit() or len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        return "PASSWORD_WEAK"
    return None


def account_key(username: str) -> str:
    """The limiter's key of an account name (whether or not such a user exists)."""
    return "user:" + username[:64]


def address_key(address: str) -> str:
    """The limiter's key of a client address."""
    return "addr:" + address[:64]


def seconds_locked(failures: Sequence[datetime], limit: int, window: timedelta,
                   now: datetime) -> int | None:
    """Whole seconds until a key with these failure times (any order) may try again, or None
    when it is not locked. Failures older than ``window`` do not count."""
    recent = sorted(at for at in failures if at > now - window)
    if limit <= 0 or len(recent) < limit:
        return None
    # Unlocked when all but limit - 1 of them have left the window.
    frees_at = recent[len(recent) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def locks_now(failures_before: int, limit: int) -> bool:
    """Whether one more failure, after ``failures_before`` recent ones, locks the key."""
    return limit > 0 and failures_before + 1 == limit

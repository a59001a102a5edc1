"""Personal data by role (SPEC §7): the one rule for the REST API, the phones' lists, exports.

ID numbers (and disability card numbers) in full for county and admin users only; everyone else
sees the first 6 and last 4 (``430421********3706``). Phone numbers in full for those who call
the household: its village's users and helpers, and county and admin users; masked
(``138****5678``) for the others.

Logs hold none of it (``redact``): a line of a log is written for whoever reads the server's
logs, so ID numbers, mobile numbers, Collect tokens and passwords are masked in every line.
"""

from __future__ import annotations

import re

from server.domain.idnumber import mask, mask_phone
from server.domain.roles import Role

FULL_DATA_ROLES = frozenset({Role.COUNTY, Role.ADMIN})
# Roles bound to a village (or a group in it) who call its households.
VILLAGE_ROLES = frozenset({Role.HELPER, Role.VILLAGE})
VILLAGE_CODE_LENGTH = 12


def sees_full_id_numbers(role: str) -> bool:
    return role in FULL_DATA_ROLES


def sees_full_phone(role: str, user_area: str, household_area: str | None) -> bool:
    """Whether a user sees a household's phone numbers in full.

    ``household_area`` is the area code of the household the phone belongs to (its village or
    group); None when the phone is no household's, and then only the role decides. A user of the
    household's village is one whose area is that village or a group in it.
    """
    if role in FULL_DATA_ROLES:
        return True
    return (role in VILLAGE_ROLES and household_area is not None
            and len(user_area) >= VILLAGE_CODE_LENGTH
            and household_area[:VILLAGE_CODE_LENGTH] == user_area[:VILLAGE_CODE_LENGTH])


def shown_id_number(value: str | None, role: str) -> str | None:
    """An ID (or disability card) number as a user of ``role`` may see it."""
    return value if not value or sees_full_id_numbers(role) else mask(value)


def shown_phone(value: str | None, role: str, user_area: str,
                household_area: str | None = None) -> str | None:
    """A phone number as the user may see it (see ``sees_full_phone``)."""
    if not value or sees_full_phone(role, user_area, household_area):
        return value
    return mask_phone(value)


def may_export_full(role: str) -> bool:
    """Whether a user may ask an export or print for full ID numbers (SPEC §7: a deliberate
    option of a role that sees them, audited as such)."""
    return sees_full_id_numbers(role)


def exported_id_number(value: str | None, role: str, full: bool) -> str | None:
    """An ID number in an export: masked unless the export asks for full numbers (``full``)
    and the role may see them."""
    if not value:
        return value
    return shown_id_number(value, role) if full else mask(value)


def id_numbers_in_export(role: str, full: bool):
    """``exported_id_number`` for one export, as a function of the number alone (a million
    rows call it)."""
    if full and sees_full_id_numbers(role):
        return str
    return mask


def exported_phone(value: str | None, role: str, user_area: str, household_area: str | None,
                   full: bool) -> str | None:
    """A phone number in an export: masked unless the export asks for full numbers and the
    user may see this household's phone (``sees_full_phone``)."""
    if not value:
        return value
    return shown_phone(value, role, user_area, household_area) if full else mask_phone(value)


# --- logs ---------------------------------------------------------------------------------------

# 17 digits and a digit or X: an ID number (or the first 18 of a longer run of digits). Kept:
# the 6 digits of its area; the rest masked, so that no 18 digits survive side by side.
_ID_SHAPED = re.compile(r"[0-9]{17}[0-9Xx]")
# A mainland mobile number, not part of a longer number.
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
# The Collect token of a server URL (/key/<token>/…), wherever the path is written.
# (A URL rule's ``/key/<token>/`` is not one.)
_KEY_PATH = re.compile(r"(/key/)[A-Za-z0-9_.~%+=-]+")
# A secret's value: password=… token=… in a query string or a form; "password": "…" in JSON;
# the credentials of an Authorization header.
_SECRET_PAIR = re.compile(
    r"((?:password|passwd|old_password|new_password|token|secret|csrf_token)=)[^&\s\"']*",
    re.IGNORECASE)
_SECRET_JSON = re.compile(
    r"(\"(?:password|passwd|old_password|new_password|token|secret)\"\s*:\s*\")"
    r"(?:[^\"\\]|\\.)*\"", re.IGNORECASE)
_AUTHORIZATION = re.compile(
    r"(Authorization[\"']?\s*[:=]\s*[\"']?(?:Basic|Bearer)\s+)[A-Za-z0-9+/=._~-]+",
    re.IGNORECASE)


# What each pattern above needs to find anything (11 digits in a row, a /key/ path, a secret's
# name followed by = or ", an Authorization): a line without any of these, as most are (a
# request's line names its URL rule, /key/<token>/…), is left as it is after one search.
_MAY_HOLD = re.compile(r"[0-9]{11}|/key/[A-Za-z0-9_.~%+=-]|(?:passw[a-z]*|token|secret)[=\"]"
                       r"|authorization", re.IGNORECASE)


# The same search for ASCII text (a request's line, most lines), in three cheaper parts: the
# case-insensitive alternation costs about four times their sum on a request's line. Only for
# ASCII: there ``lower()`` is exactly what IGNORECASE matches (elsewhere "ſ" matches "s").
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
_KEY_PATH_START = re.compile(r"/key/[A-Za-z0-9_.~%+=-]")
_SECRET_NAME = re.compile(r"(?:passw[a-z]*|token|secret)[=\"]|authorization")


def _may_hold(text: str) -> bool:
    if not text.isascii():
        return _MAY_HOLD.search(text) is not None
    return (_ELEVEN_DIGITS.search(text) is not None
            or _KEY_PATH_START.search(text) is not None
            or _SECRET_NAME.search(text.lower()) is not None)


def redact(text: str) -> str:
    """``text`` with the personal data and secrets a log line may catch masked: 18-character
    ID-shaped numbers (``430421************``), mobile numbers (``138****5678``), the token
    of a ``/key/<token>/`` path, the values of ``password=``/``token=`` pairs and of JSON
    ``"password"`` fields, and HTTP Basic/Bearer credentials. Other text is left as it is."""
    if not _may_hold(text):
        return text
    return redact_all(text)


def redact_all(text: str) -> str:
    """``redact`` without its first search: every pattern applied (what it must equal)."""
    text = _ID_SHAPED.sub(lambda m: m.group()[:6] + "*" * 12, text)
    text = _MOBILE.sub(r"\1****\2", text)
    text = _KEY_PATH.sub(r"\1***", text)
    text = _SECRET_PAIR.sub(r"\1***", text)
    text = _SECRET_JSON.sub(r'\1***"', text)
    return _AUTHORIZATION.sub(r"\1***", text)

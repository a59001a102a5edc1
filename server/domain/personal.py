"""Personal data by role (SPEC §7): the one rule for the REST API, the phones' lists, exports.

ID numbers (and disability card numbers) in full for county and admin users only; everyone else
sees the first 6 and last 4 (``430421********3706``). Phone numbers in full for those who call
the household: its village's users and helpers, and county and admin users; masked
(``138****5678``) for the others.
"""

from __future__ import annotations

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

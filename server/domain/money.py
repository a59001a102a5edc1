"""Money: yuan as exact decimals, never floats; rounded to 0.01 only for display (SPEC §3).

A form value is read **strictly** (SPEC §3): a plain decimal in ASCII digits, an optional
leading minus, at most two decimal places (``"1234"``, ``"1234.5"``, ``"-3.25"``,
``"12000.0"`` as ODK Collect writes a decimal answer). Everything else is refused with one
``MoneyError`` that says which rule the text breaks, never guessed at: thousands separators
(``"1,000"``, ``"1 000"``), exponents (``"1e3"``; note that Collect writes a decimal of ten
million or more as ``"1.0E7"`` — refused too, a reviewer corrects it), full-width or other
non-ASCII digits (``"１０００"``), three or more places (``"12.345"``: not a sum of yuan and
fen), ``NaN``/``Infinity``, a plus sign, blanks or any other character. Whether a negative
amount is allowed is the caller's rule (the survey refuses it for every A28–A36 item).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from server.domain.catalogue import CatalogueError

CENT = Decimal("0.01")

# ASCII digits only: a character class of code points, not ``\d`` (which matches "１").
_PLAIN = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")
_EXPONENT = re.compile(r"[0-9.][eE][-+]?[0-9]")
_SEPARATORS = frozenset(",，، '_\u00a0\u2009\u202f\u3000")


class MoneyError(CatalogueError):
    """A number that is not a plain decimal: the catalogue code of the rule it breaks."""


def money(value: str | int | Decimal) -> Decimal:
    """A money amount from a form value (a plain decimal with at most two places), an int or
    a Decimal; floats are refused. ``MoneyError`` says which rule a text breaks."""
    return plain_decimal(value, places=2)


def plain_decimal(value: str | int | Decimal, places: int | None = None) -> Decimal:
    """A number written as a plain decimal (ASCII digits, optional minus, optional fraction
    of at most ``places`` digits; no limit when None), an int or a finite Decimal."""
    if isinstance(value, (float, bool)):
        raise MoneyError("NUMBER_FLOAT")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError("NUMBER_NOT_FINITE")
        return value
    if not isinstance(value, str):
        raise MoneyError("NUMBER_NOT_TEXT")
    match = _PLAIN.fullmatch(value)
    if match is None:
        raise MoneyError(_why_not_plain(value))
    fraction = match.group(1)
    if places is not None and fraction is not None and len(fraction) > places:
        raise MoneyError("NUMBER_PLACES", places=places, given=len(fraction))
    return Decimal(value)


def _why_not_plain(text: str) -> str:
    """The catalogue code of the rule a text that is not a plain decimal breaks, for the
    helper who typed it (the caller shows the text itself)."""
    if not text.strip():
        return "NUMBER_EMPTY"
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in text):
        return "NUMBER_FULL_WIDTH"
    if any(ch in _SEPARATORS for ch in text.strip()):
        return "NUMBER_SEPARATORS"
    if _EXPONENT.search(text):
        return "NUMBER_SCIENTIFIC"
    if text.startswith("+"):
        return "NUMBER_PLUS_SIGN"
    return "NUMBER_NOT_PLAIN"


def display(amount: Decimal) -> str:
    """Rounded half-up to the cent, for people: ``Decimal("1666.666…")`` → ``"1666.67"``."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))

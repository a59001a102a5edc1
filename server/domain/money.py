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

CENT = Decimal("0.01")

# ASCII digits only: a character class of code points, not ``\d`` (which matches "１").
_PLAIN = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")
_EXPONENT = re.compile(r"[0-9.][eE][-+]?[0-9]")
_SEPARATORS = frozenset(",，، '_\u00a0\u2009\u202f\u3000")


class MoneyError(ValueError):
    pass


def money(value: str | int | Decimal) -> Decimal:
    """A money amount from a form value (a plain decimal with at most two places), an int or
    a Decimal; floats are refused. ``MoneyError`` says which rule a text breaks."""
    return plain_decimal(value, places=2)


def plain_decimal(value: str | int | Decimal, places: int | None = None) -> Decimal:
    """A number written as a plain decimal (ASCII digits, optional minus, optional fraction
    of at most ``places`` digits; no limit when None), an int or a finite Decimal."""
    if isinstance(value, (float, bool)):
        raise MoneyError("金额必须是精确的十进制数，不能是浮点数")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError("不是有效的数值")
        return value
    if not isinstance(value, str):
        raise MoneyError("应为十进制数")
    match = _PLAIN.fullmatch(value)
    if match is None:
        raise MoneyError(_why_not_plain(value))
    fraction = match.group(1)
    if places is not None and fraction is not None and len(fraction) > places:
        raise MoneyError(f"最多保留{places}位小数（元、角、分），此处有{len(fraction)}位")
    return Decimal(value)


def _why_not_plain(text: str) -> str:
    """The rule a text that is not a plain decimal breaks, for the helper who typed it (the
    caller shows the text itself)."""
    if not text.strip():
        return "不能为空"
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in text):
        return "含有全角或非阿拉伯数字：只能使用半角数字0–9"
    if any(ch in _SEPARATORS for ch in text.strip()):
        return "含有千位分隔符或空格：请直接写数字，如 1000"
    if _EXPONENT.search(text):
        return "是科学计数法：请写成普通数字，如 1000"
    if text.startswith("+"):
        return "不能带正号“+”"
    return "不是普通的十进制数（如 1234 或 1234.56）"


def display(amount: Decimal) -> str:
    """Rounded half-up to the cent, for people: ``Decimal("1666.666…")`` → ``"1666.67"``."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))

"""Money: yuan as exact decimals, never floats; rounded to 0.01 only for display (SPEC §3)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


class MoneyError(ValueError):
    pass


def money(value: str | int | Decimal) -> Decimal:
    """A money amount from a form value ("1234.5", 1234, Decimal); floats are refused."""
    if isinstance(value, (float, bool)):
        raise MoneyError("金额必须是精确的十进制数，不能是浮点数")
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise MoneyError(f"“{value}”不是有效的金额") from exc
    if not amount.is_finite():
        raise MoneyError(f"“{value}”不是有效的金额")
    return amount


def display(amount: Decimal) -> str:
    """Rounded half-up to the cent, for people: ``Decimal("1666.666…")`` → ``"1666.67"``."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))

"""Resident ID numbers (居民身份证号码, GB 11643-1999) and second-generation disability cards.

An ID is 18 characters: a 6-digit area code (the first two a real province), an 8-digit birth
date, a 3-digit sequence (odd for men, even for women) and a check character computed with
ISO 7064 MOD 11-2. A disability card number (残疾人证, 2nd generation) is that ID followed by the
disability category (1–7) and level (1–4); the person is the ID. First-generation 15-digit
numbers are refused. Every refusal names the rule that failed (SPEC §3).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from operator import mul

from server.domain.catalogue import CatalogueError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"

# GB/T 2260 provinces, plus 81/82/83 of the residence permits of Hong Kong, Macao and Taiwan
# residents, which carry ID-shaped numbers.
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
DISABILITY_CATEGORIES = {1: "视力残疾", 2: "听力残疾", 3: "言语残疾", 4: "肢体残疾",
                         5: "智力残疾", 6: "精神残疾", 7: "多重残疾"}
DISABILITY_LEVELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_EARLIEST_BIRTH = date(1880, 1, 1)
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


class Sex(StrEnum):
    MALE = "1"
    FEMALE = "2"

    @property
    def label(self) -> str:
        return "男" if self is Sex.MALE else "女"


class IdNumberError(CatalogueError):
    """An ID number that breaks a rule: its catalogue code and values."""


@dataclass(frozen=True)
class IdNumber:
    value: str  # the normalised 18 characters: the person's identity
    birth_date: date
    sex: Sex
    disability_category: int | None = None
    disability_level: int | None = None

    @property
    def area_code(self) -> str:
        return self.value[:6]

    @property
    def card_number(self) -> str:
        """What was written: the ID, or the 20-digit disability card number."""
        if self.disability_category is None:
            return self.value
        return f"{self.value}{self.disability_category}{self.disability_level}"

    def age_on(self, day: date) -> int:
        """Full years of age on ``day``."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


def mask(value: str) -> str:
    """``430421198001010011`` → ``430421********0011`` (for roles that don't need the number)."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``; landlines keep their area code's first digits."""
    return phone if len(phone) < 8 else phone[:3] + "****" + phone[-4:]


def normalise(raw: str) -> str:
    """Full-width characters to ASCII, white space removed, ``x`` upper-cased."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) != len(WEIGHTS):
        raise ValueError(f"17 digits expected, not {len(first17)}")
    total = sum(map(mul, map(int, first17), WEIGHTS))  # the take-in's hot path: no generator
    return CHECK_CHARACTERS[total % 11]


def parse(raw: str, today: date | None = None) -> IdNumber:
    """Validate and normalise; raises IdNumberError naming the failed rule."""
    value = normalise(raw)
    if not value:
        raise IdNumberError("ID_EMPTY")
    category = level = None
    if len(value) == 15 and value.isdigit():
        raise IdNumberError("ID_FIRST_GENERATION")
    if len(value) == 20:
        category_digit, level_digit = value[18], value[19]
        if not category_digit.isdigit() or int(category_digit) not in DISABILITY_CATEGORIES:
            raise IdNumberError("DISABILITY_CATEGORY", digit=category_digit)
        if not level_digit.isdigit() or int(level_digit) not in DISABILITY_LEVELS:
            raise IdNumberError("DISABILITY_LEVEL", digit=level_digit)
        category, level = int(category_digit), int(level_digit)
        value = value[:18]
    elif len(value) != 18:
        raise IdNumberError("ID_LENGTH", length=len(value))
    if not _SHAPE.fullmatch(value):
        raise IdNumberError("ID_CHARACTERS")
    if value[:2] not in PROVINCES:
        raise IdNumberError("ID_PROVINCE", province=value[:2])
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdNumberError("ID_BIRTH_DATE", digits=value[6:14]) from exc
    if birth > (today or date.today()) or birth < _EARLIEST_BIRTH:
        raise IdNumberError("ID_BIRTH_DATE", digits=value[6:14])
    expected = check_character(value[:17])
    if value[17] != expected:
        raise IdNumberError("ID_CHECKSUM", expected=expected, given=value[17])
    sex = Sex.MALE if int(value[16]) % 2 else Sex.FEMALE
    return IdNumber(value, birth, sex, category, level)


def one_digit_apart(a: str, b: str) -> bool:
    """Two IDs whose first 17 digits differ in one position or by two adjacent digits swapped.

    The check character is left out: MOD 11-2 catches every single-digit error, so two valid
    IDs one keystroke apart always differ in their check character as well.
    """
    a, b = a[:17], b[:17]
    if len(a) != len(b) or a == b:
        return False
    differences = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(differences) == 1:
        return True
    first, second = (differences + [0, 0])[:2]
    return (len(differences) == 2 and second == first + 1
            and a[first] == b[second] and a[second] == b[first])

"""Rules about household members: labour skill against age and disability (SPEC §3).

Age rules that the source states are errors; the rest are warnings:
under 16 → 无劳动力; 16–60 → 普通劳动力, 技能劳动力, 丧失劳动力 or 弱/半劳动力; over 60 →
弱/半劳动力 or 无劳动力. 技能劳动力 has no age limit in the source: outside 16–60 it is a warning.
An adult with a disability counts as having labour capacity unless the disability is level 1–2
physical, or mental, or intellectual: 丧失/无劳动力 otherwise is a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from server.domain import fields
from server.domain.catalogue import render

ORDINARY, SKILLED, LOST, NONE, WEAK = "01", "02", "03", "04", "05"
SKILL_NAMES = {ORDINARY: "普通劳动力", SKILLED: "技能劳动力", LOST: "丧失劳动力",
               NONE: "无劳动力", WEAK: "弱劳动力或半劳动力"}
HEALTH_DISABLED = "04"
# Disability categories of the card (see idnumber.DISABILITY_CATEGORIES).
PHYSICAL, INTELLECTUAL, MENTAL = 4, 5, 6
HAS_LABOUR_CAPACITY = frozenset({ORDINARY, SKILLED, WEAK})
DECEASED = "01"  # the deceased flag's yes (codes.YES)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str  # a code of the catalogue (server.domain.catalogue)
    field: str  # A-code
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        return render(self.code, self.params)


# The age bands of the labour-skill rule, as the findings name them.
BAND_NAMES = {"child": "未满16周岁", "working": "16–60周岁", "elderly": "60周岁以上"}


def labour_skill_findings(skill: str, age: int, disabled: bool = False,
                          disability_category: int | None = None,
                          disability_level: int | None = None) -> list[Finding]:
    name = SKILL_NAMES.get(skill, skill)
    findings = []
    if age < 16:
        allowed = {NONE}
        band = "child"
    elif age <= 60:
        allowed = {ORDINARY, SKILLED, LOST, WEAK}
        band = "working"
    else:
        allowed = {WEAK, NONE}
        band = "elderly"
    if skill == SKILLED and skill not in allowed:
        findings.append(Finding(Severity.WARNING, "LABOUR_SKILL_AGE_UNUSUAL",
                                fields.LABOUR_SKILL.code,
                                {"band": BAND_NAMES[band], "age": age}))
    elif skill not in allowed:
        expected = "、".join(SKILL_NAMES[code] for code in sorted(allowed))
        findings.append(Finding(Severity.ERROR, "LABOUR_SKILL_AGE", fields.LABOUR_SKILL.code,
                                {"band": BAND_NAMES[band], "age": age, "expected": expected,
                                 "skill": name}))
    if disabled and age >= 16 and skill in (LOST, NONE) and not _severe(
            disability_category, disability_level):
        findings.append(Finding(Severity.WARNING, "LABOUR_SKILL_DISABILITY",
                                fields.LABOUR_SKILL.code))
    return findings


def _severe(category: int | None, level: int | None) -> bool:
    if category in (INTELLECTUAL, MENTAL):
        return True
    return category == PHYSICAL and level in (1, 2)


def has_labour_capacity(members: Iterable[Mapping[str, object]]) -> bool:
    """Whether a living member has labour capacity (A14 普通、技能 or 弱/半劳动力), from the
    member values of a survey (SPEC §6: such a household is not "not for now")."""
    return any(m.get(fields.LABOUR_SKILL.name) in HAS_LABOUR_CAPACITY
               and m.get("deceased") != DECEASED for m in members)

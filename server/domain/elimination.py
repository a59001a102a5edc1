"""Risk-elimination rules (SPEC §6): the four standards, the floor, and "not for now".

Standards, all required: measures carried out; 两不愁三保障 and water secured; income stable;
large rigid expenses resolved. A34 below the elimination floor blocks (hard rule); below the
monitoring line but above the floor is a warning (the source does not define 一超过). A household
without labour capacity, once on social-protection measures, is not marked 风险消除 for now.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from server.domain import fields
from server.domain.members import Finding, Severity
from server.domain.money import display

STANDARDS = {
    "std_measures_carried_out": "帮扶措施有效落实",
    "std_basic_needs_secured": "“两不愁三保障”及饮水安全有保障",
    "std_income_stable": "收入持续稳定",
    "std_rigid_expenses_resolved": "大额刚性支出稳定解决",
}


def elimination_findings(*, a34: Decimal, floor: Decimal, line: Decimal,
                         standards: Mapping[str, bool], labour_capacity: bool,
                         social_protection: bool) -> list[Finding]:
    findings = []
    unmet = [name for name in STANDARDS if not standards.get(name)]
    if unmet:
        findings.append(Finding(Severity.ERROR, "ELIMINATION_STANDARDS", "风险消除标准",
                                {"standards": "、".join(STANDARDS[name] for name in unmet),
                                 "unmet": " ".join(unmet)}))
    if a34 < floor:
        findings.append(Finding(Severity.ERROR, "ELIMINATION_BELOW_FLOOR",
                                fields.NET_INCOME_PER_CAPITA.code,
                                {"a34": display(a34), "floor": display(floor)}))
    elif a34 < line:
        findings.append(Finding(Severity.WARNING, "ELIMINATION_BELOW_LINE",
                                fields.NET_INCOME_PER_CAPITA.code,
                                {"a34": display(a34), "line": display(line)}))
    if not labour_capacity and social_protection:
        findings.append(Finding(Severity.ERROR, "ELIMINATION_NOT_FOR_NOW",
                                fields.LABOUR_SKILL.code))
    return findings

"""The proposal of a monitoring type (A3), SPEC §4. The system proposes; people decide.

- 01 脱贫不稳定户: A4 = 是 and A34 < line;
- 02 边缘易致贫户: A4 = 否 and A34 < line;
- 03 突发严重困难户: A34 ≥ line, and A38 < line or a recorded severe difficulty from large rigid
  expenses or a sharp income drop. A household with A34 < line is never type 03.

A household is a candidate (纳入监测的候选) when A34 or A38 is below the line and it has at least
one risk (②–⑭), or when a severe difficulty is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from server.domain.fields import INCOME_REFERENCE_PER_CAPITA, NET_INCOME_PER_CAPITA


class MonitoringType(StrEnum):
    UNSTABLE = "01"  # 脱贫不稳定户
    EDGE = "02"  # 边缘易致贫户
    SUDDEN = "03"  # 突发严重困难户


@dataclass(frozen=True)
class Proposal:
    candidate: bool
    monitoring_type: MonitoringType | None
    reasons: tuple[str, ...]


def propose(*, formerly_poor: bool, a34: Decimal, a38: Decimal, line: Decimal,
            has_risk: bool, severe_difficulty: bool) -> Proposal:
    reasons = []
    if a34 < line:
        reasons.append(f"家庭人均纯收入（{NET_INCOME_PER_CAPITA.code}）低于监测范围基准线 {line}")
    if a38 < line:
        reasons.append(
            f"人均收入参考范围（{INCOME_REFERENCE_PER_CAPITA.code}）低于监测范围基准线 {line}")
    if has_risk:
        reasons.append("存在返贫致贫风险（②–⑭）")
    if severe_difficulty:
        reasons.append("刚性支出较大或收入大幅缩减导致基本生活出现严重困难")
    candidate = ((a34 < line or a38 < line) and has_risk) or severe_difficulty
    if a34 < line:
        kind = MonitoringType.UNSTABLE if formerly_poor else MonitoringType.EDGE
    elif a38 < line or severe_difficulty:
        kind = MonitoringType.SUDDEN
    else:
        kind = None
    return Proposal(candidate, kind if candidate else None, tuple(reasons))


def type_allowed(chosen: MonitoringType, a34: Decimal, line: Decimal) -> bool:
    """A household with A34 below the line is never 突发严重困难户 (SPEC §4)."""
    return not (chosen is MonitoringType.SUDDEN and a34 < line)

"""What a row of a village's public-notice list shows (附件4 防止返贫监测对象帮扶措施落实情况表,
SPEC §6/§7): the household's numbered risks (返贫致贫风险 ①–⑭) and its assistance measures with
their effects (帮扶措施, 帮扶成效), read from the registry's values by field name.

Choices where the source is silent, documented here:
- the risks are those of the household's latest survey: ② to ⑤ from A23–A26, ⑥ to ⑭ from the
  A27 codes (``codes.NUMBERED_RISK_SOURCE``), ① when its A34 is below the monitoring line of
  the survey's year (the caller reads the line);
- a measure shows the options of the latest record that chose it, with that record's effect
  (a later record of the same measure replaces an earlier one; records are given oldest first);
  a tick-box measure (A44, A50–A52: 是则勾选) shows its label alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from server.domain import fields
from server.domain.codes import NUMBERED_RISK_MARKS, NUMBERED_RISK_SOURCE, TABLES, YES

# The fields that raise the numbered risks ②–⑭, by A-code (① is the income, A26 is derived).
_RISK_FIELDS = {field.code: field for field in (*fields.SECURITY_RISKS, fields.RISK_TYPES)}


def numbered_risks(values: Mapping[str, object], *, member_uninsured: bool,
                   below_line: bool) -> tuple[str, ...]:
    """The numbers ('1'–'14', in order) of the risks a survey's household values show."""
    found = []
    for number, (a_code, raised_by) in NUMBERED_RISK_SOURCE.items():
        if raised_by is None:
            present = below_line
        elif a_code == fields.MEMBER_UNINSURED.code:
            present = member_uninsured
        else:
            present = raised_by in str(values.get(_RISK_FIELDS[a_code].name) or "").split()
        if present:
            found.append(number)
    return tuple(found)


def risk_marks(numbers: Iterable[str]) -> str:
    """The numbers as the printed forms write them: "②⑥"."""
    return "".join(NUMBERED_RISK_MARKS[number] for number in numbers)


@dataclass(frozen=True)
class MeasureLine:
    """One assistance measure as 附件4 lists it: its A-code, its label, the options chosen
    (empty for a tick box) and the effect recorded with it."""

    code: str  # "A39"
    label: str  # "产业帮扶"
    chosen: tuple[str, ...]  # option labels: ("种植业", "养殖业")
    effect: str | None


def measure_lines(records: Iterable[Mapping[str, object]]) -> list[MeasureLine]:
    """The measures of a household's measure records (values by field name, oldest first),
    in A-code order."""
    latest: dict[str, MeasureLine] = {}
    for values in records:
        for measure in fields.MEASURES:
            chosen = str(values.get(measure.name) or "").split()
            if not chosen:
                continue
            table = TABLES[measure.table]
            labels = () if table.codes_list() == [YES] else tuple(
                table.label(code) if code in table else code for code in chosen)
            effect = str(values.get(fields.effect_of(measure).name) or "").strip() or None
            latest[measure.name] = MeasureLine(measure.code, measure.label, labels, effect)
    return [latest[m.name] for m in fields.MEASURES if m.name in latest]

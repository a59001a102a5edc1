"""How a form's values are laid out for people to read (pure): each value with its field of the
registry in code order, shown with its code table's labels; two survey versions side by side
with what changed; a submission's located problems beside the values they are about.

Values come as the forms give them, by field name (``server.domain.fields``): a household's
as one mapping, its members' as one mapping each. Nothing here masks personal data: the caller
shows ID and phone numbers by the one rule of ``server.domain.personal`` (each line carries its
``Field``, whose ``kind`` says which values are such numbers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from server.domain import codes
from server.domain.fields import (
    BY_CODE,
    BY_NAME,
    FIELDS,
    ID_NUMBER,
    NAME,
    SELECT_KINDS,
    SEX,
    Field,
    Kind,
    Scope,
    in_code_order,
)
from server.domain.idnumber import Sex, normalise

# A file name (photo, signature) says nothing to compare: the files are shown as pictures.
_NOT_COMPARED = frozenset({Kind.IMAGE})
MEMBER_KEY = "members[{index}]/{name}"  # a member's value, as corrections name it


def shown_value(spec: Field, value: str | None) -> str:
    """A value as people read it: a code as its label ("01" → "是"; several codes "、"-joined),
    A6 sex as 男/女, anything else as given. A code outside its table stays as given."""
    if not value:
        return ""
    if spec is SEX:
        return Sex(value).label if value in set(Sex) else value
    if spec.kind in SELECT_KINDS and spec.table in codes.TABLES:
        table = codes.TABLES[spec.table]
        chosen = value.split() if spec.kind is Kind.SELECT_MULTIPLE else [value]
        return "、".join(table.label(code) if code in table else code for code in chosen)
    return value


def fields_named(token: str, scope: Scope | None = None) -> tuple[Field, ...]:
    """The fields a problem's ``field`` names: a field name ("a28_wages"), an A-code (every field
    of that code: A15 is the work area and the place) or a field's label ("死亡日期"); none
    when it names no field (a problem about the whole form). ``scope`` keeps a member's problem
    to member fields and a household's to household fields."""
    if token in BY_NAME:
        found: tuple[Field, ...] = (BY_NAME[token],)
    elif token in BY_CODE:
        found = BY_CODE[token]
    else:
        found = tuple(spec for spec in FIELDS if spec.label == token)
    if scope is not None and any(spec.scope is scope for spec in found):
        found = tuple(spec for spec in found if spec.scope is scope)
    return found


def _ordered(names: set[str], scope: Scope) -> list[Field]:
    return [spec for spec in in_code_order() if spec.scope is scope and spec.name in names]


def sheet(values: Mapping[str, str], scope: Scope = Scope.HOUSEHOLD,
          coded_only: bool = False) -> list[tuple[Field, str]]:
    """The values the registry knows, (field, value) in code order; empty values, photos and
    signatures left out. ``coded_only``: the fields with an A-code alone (the national
    dataset's indicators)."""
    names = {name for name, value in values.items() if value and name in BY_NAME
             and BY_NAME[name].kind not in _NOT_COMPARED
             and (BY_NAME[name].code or not coded_only)}
    return [(spec, str(values[spec.name])) for spec in _ordered(names, scope)]


# --- two survey versions side by side -----------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One field in the two versions ("" where a version has no value)."""

    field: Field
    left: str
    right: str

    @property
    def changed(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class MemberRows:
    """One person in the two versions: matched by ID number (the person's identity, SPEC §5),
    else by position in the roster. ``status``: "both", "added" (right only) or "removed"
    (left only)."""

    name: str
    id_number: str
    status: str
    rows: tuple[Row, ...]

    @property
    def changed(self) -> bool:
        return self.status != "both" or any(row.changed for row in self.rows)


@dataclass(frozen=True)
class Comparison:
    household: tuple[Row, ...]
    members: tuple[MemberRows, ...]

    @property
    def changes(self) -> int:
        """How many household values and members differ."""
        return sum(row.changed for row in self.household) + sum(
            member.changed for member in self.members)


def _identity(member: Mapping[str, str], position: int) -> str:
    id_text = normalise(str(member.get(ID_NUMBER.name) or ""))
    return id_text[:18] if id_text else f"#{position}"


def _rows(left: Mapping[str, str], right: Mapping[str, str], scope: Scope) -> tuple[Row, ...]:
    names = {name for name in (*left, *right) if name in BY_NAME
             and BY_NAME[name].kind not in _NOT_COMPARED
             and (str(left.get(name) or "") or str(right.get(name) or ""))}
    return tuple(Row(spec, str(left.get(spec.name) or ""), str(right.get(spec.name) or ""))
                 for spec in _ordered(names, scope))


def compare(left: Mapping[str, str], left_members: Sequence[Mapping[str, str]],
            right: Mapping[str, str], right_members: Sequence[Mapping[str, str]]) -> Comparison:
    """Two versions of a household's survey (older on the left), field by field in code order:
    the household's values, then each person — those of both rosters in the right one's order,
    then those who left. Photos and signatures (file names) are not compared."""
    olds = {_identity(member, n): member for n, member in enumerate(left_members, start=1)}
    members = []
    seen = set()
    for n, member in enumerate(right_members, start=1):
        key = _identity(member, n)
        old = olds.get(key)
        seen.add(key)
        members.append(MemberRows(str(member.get(NAME.name) or ""),
                                  str(member.get(ID_NUMBER.name) or ""),
                                  "both" if old is not None else "added",
                                  _rows(old or {}, member, Scope.MEMBER)))
    for key, member in olds.items():
        if key not in seen:
            members.append(MemberRows(str(member.get(NAME.name) or ""),
                                      str(member.get(ID_NUMBER.name) or ""), "removed",
                                      _rows(member, {}, Scope.MEMBER)))
    return Comparison(_rows(left, right, Scope.HOUSEHOLD), tuple(members))


# --- a submission's problems beside its values --------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A finding of the server's checks as a submission keeps it."""

    severity: str  # "error" or "warning"
    code: str
    field: str
    member: int | None
    message: str  # in Chinese, where it is included


@dataclass
class Line:
    """One value of a submission with the problems located on it. ``key`` is how a correction
    names it ("a28_wages", "members[2]/a7_id_number"); ``corrected`` the reviewer's value, if
    any (taken in instead of the phone's)."""

    key: str
    field: Field
    value: str
    corrected: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_error(self) -> bool:
        return any(problem.severity == "error" for problem in self.problems)


@dataclass
class MemberLines:
    index: int
    name: str
    lines: list[Line]


@dataclass
class ReviewSheet:
    household: list[Line]
    members: list[MemberLines]
    unlocated: list[Problem]  # about the whole form, or a field the form does not have
    other_values: dict[str, str]  # values of names the registry does not know (form helpers)


def problem_of(stored: Mapping) -> Problem:
    member = stored.get("member")
    return Problem(str(stored.get("severity") or ""), str(stored.get("code") or ""),
                   str(stored.get("field") or ""), int(member) if member else None,
                   str(stored.get("message") or ""))


def review_sheet(household: Mapping[str, str], members: Sequence[Mapping[str, str]],
                 problems: Sequence[Mapping], corrections: Mapping[str, str]) -> ReviewSheet:
    """The values of a submission, household then members, each field in code order, with the
    problems beside the values they are about (a field given, empty or missing, gets its line
    when a problem names it) and the reviewer's corrections beside the phone's values."""
    found = [problem_of(stored) for stored in problems]
    unlocated: list[Problem] = []
    located: dict[tuple[int | None, str], list[Problem]] = {}
    for problem in found:
        scope = Scope.MEMBER if problem.member else Scope.HOUSEHOLD
        specs = fields_named(problem.field, scope) if problem.field else ()
        if not specs:
            unlocated.append(problem)
        for spec in specs:
            owner = problem.member if spec.scope is Scope.MEMBER else None
            located.setdefault((owner, spec.name), []).append(problem)

    def lines(values: Mapping[str, str], member: int | None) -> list[Line]:
        scope = Scope.MEMBER if member else Scope.HOUSEHOLD
        names = {name for name in values if name in BY_NAME}
        names |= {name for owner, name in located if owner == member
                  and BY_NAME[name].scope is scope}
        prefix = MEMBER_KEY.format(index=member, name="") if member else ""
        names |= {key.removeprefix(prefix) for key in corrections if key.startswith(prefix)
                  and key.removeprefix(prefix) in BY_NAME
                  and BY_NAME[key.removeprefix(prefix)].scope is scope}
        out = []
        for spec in _ordered(names, scope):
            key = MEMBER_KEY.format(index=member, name=spec.name) if member else spec.name
            out.append(Line(key, spec, str(values.get(spec.name) or ""), corrections.get(key),
                            located.get((member, spec.name), [])))
        return out

    count = max([len(members), *(p.member or 0 for p in found)])
    roster = [MemberLines(n, str((members[n - 1] if n <= len(members) else {}).get(NAME.name)
                                 or ""),
                          lines(members[n - 1] if n <= len(members) else {}, n))
              for n in range(1, count + 1)]
    other = {name: str(value) for name, value in household.items()
             if name not in BY_NAME and value}
    return ReviewSheet(lines(household, None), roster, unlocated, other)


# --- a GPS point --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoPoint:
    """An ODK geopoint ("26.9 112.6 60 5": latitude, longitude, altitude m, accuracy m)."""

    latitude: str
    longitude: str
    altitude: str | None
    accuracy: str | None

    @property
    def uri(self) -> str:
        """A ``geo:`` URI (RFC 5870), which a phone opens in its own map application."""
        return f"geo:{self.latitude},{self.longitude}"


def geopoint(value: str | None) -> GeoPoint | None:
    """The point an ODK geopoint answer gives, or None when there is none or it is not one."""
    parts = (value or "").split()
    if len(parts) < 2:
        return None
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    rest = [*parts[2:4], None, None]
    return GeoPoint(parts[0], parts[1], rest[0], rest[1])

"""Deduplication by ID number (SPEC §5): what a submission does to the registry.

A person is their normalised 18-character ID. A submission whose people are already in one
household updates that household; none known creates one; people in two households, or one ID
twice in the submission, is a conflict that holds the submission for a reviewer. Likely
duplicates (same name and birth date, IDs one digit apart) are flagged, never merged, and a
reviewer's "not the same person" is remembered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from server.domain.idnumber import one_digit_apart


class Outcome(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CONFLICT = "conflict"


class ConflictKind(StrEnum):
    DUPLICATE_IN_SUBMISSION = "duplicate_in_submission"
    MULTIPLE_HOUSEHOLDS = "multiple_households"


CONFLICT_NAMES = {
    ConflictKind.DUPLICATE_IN_SUBMISSION: "同一份提交中身份证号码重复",
    ConflictKind.MULTIPLE_HOUSEHOLDS: "成员已登记在其他户",
}


class Resolution(StrEnum):
    """How a reviewer resolves a conflict (SPEC §5)."""

    SAME_HOUSEHOLD = "same_household"  # it is all one household: merge into it
    MOVED = "moved"  # a real move between households (marriage, 分户, elderly living in turn)
    ENTRY_ERROR = "entry_error"  # a data-entry error: the submission is corrected or rejected


@dataclass(frozen=True)
class Incoming:
    """A person as a submission lists them."""

    index: int  # 1-based position in the member roster
    id_number: str  # normalised
    name: str
    is_head: bool = False


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    id_number: str
    member_indexes: tuple[int, ...]
    households: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        where = f"（第{'、'.join(map(str, self.member_indexes))}名成员）"
        return f"{CONFLICT_NAMES[self.kind]}：{self.id_number}{where}"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    household_id: str | None = None
    conflicts: tuple[Conflict, ...] = ()


def decide(people: Sequence[Incoming], known: Mapping[str, str],
           claimed_household: str | None = None) -> Decision:
    """What to do with a submission's people.

    ``known`` maps the IDs already in the registry to their household; ``claimed_household``
    is the household the submission itself names (a follow-up form's pick), if any.
    """
    counts = Counter(person.id_number for person in people)
    duplicates = tuple(
        Conflict(ConflictKind.DUPLICATE_IN_SUBMISSION, id_number,
                 tuple(p.index for p in people if p.id_number == id_number))
        for id_number, count in counts.items() if count > 1
    )
    if duplicates:
        return Decision(Outcome.CONFLICT, conflicts=duplicates)
    households = {known[p.id_number] for p in people if p.id_number in known}
    if claimed_household:
        households.add(claimed_household)
    if not households:
        return Decision(Outcome.CREATE)
    if len(households) == 1:
        return Decision(Outcome.UPDATE, household_id=households.pop())
    home = _home(people, known, claimed_household)
    conflicts = tuple(
        Conflict(ConflictKind.MULTIPLE_HOUSEHOLDS, p.id_number, (p.index,),
                 tuple(sorted({known[p.id_number], home} - {None})))
        for p in people if p.id_number in known and known[p.id_number] != home
    )
    return Decision(Outcome.CONFLICT, household_id=home, conflicts=conflicts)


def _home(people: Sequence[Incoming], known: Mapping[str, str],
          claimed: str | None) -> str | None:
    """The household the submission is most likely about: the claimed one, else the head's."""
    if claimed:
        return claimed
    heads = [known.get(p.id_number) for p in people if p.is_head]
    return heads[0] if heads else None


@dataclass(frozen=True)
class PersonKey:
    id_number: str
    name: str

    @property
    def birth(self) -> str:
        return self.id_number[6:14]


def likely_same(a: PersonKey, b: PersonKey) -> bool:
    """Same name and birth date, IDs one digit apart: flag for review, never merge."""
    return (a.id_number != b.id_number and a.name == b.name and a.birth == b.birth
            and one_digit_apart(a.id_number, b.id_number))


def pair(a: str, b: str) -> tuple[str, str]:
    """The order-free key of a pair of IDs (how "not the same person" is remembered)."""
    return (a, b) if a <= b else (b, a)


def likely_duplicates(person: PersonKey, candidates: Iterable[PersonKey],
                      not_same: set[tuple[str, str]]) -> list[PersonKey]:
    """The candidates to flag with ``person``, less the pairs a reviewer said are different."""
    return [c for c in candidates
            if likely_same(person, c) and pair(person.id_number, c.id_number) not in not_same]

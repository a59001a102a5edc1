"""Deduplication by ID number (SPEC §5): what a submission does to the registry.

A person is their normalised 18-character ID. A household survey either resurveys a registered
household (the form's ``resurvey`` = 是 and its pick, or the phone's entity id of a registered
household) or registers a new one. The submission is taken in only when it moves nobody silently
and stays inside its submitter's area; otherwise it is held, with one conflict per person (or one
for the area), for a reviewer whose area covers everything involved:

- one ID twice in the roster (``duplicate_in_submission``);
- a resurvey listing a person registered in another household (``multiple_households``);
- a new household listing a person already registered in a household (``already_registered``:
  分户, elderly living in turn, or the same household registered twice);
- a resurvey whose roster leaves out living registered members (``members_left``: moved or
  married out, 分户, or a death not recorded on the roster — a death recorded on the roster keeps
  the member, marked deceased);
- an address, or a household resurveyed, outside the submitter's area (``outside_area``).

Only a reviewer's resolution moves people: when the held submission is taken in again, each
conflict resolved as a move (or as the same household) is an authorisation, and the decision
lists the people who move in from another household and those who leave, so that the writer
moves each one explicitly and the audit names them. Likely duplicates (same name and birth
date, IDs one digit apart) are flagged, never merged, and "not the same person" is remembered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from server.domain.areas import common_area, contains
from server.domain.idnumber import mask, one_digit_apart


class Outcome(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CONFLICT = "conflict"


class ConflictKind(StrEnum):
    DUPLICATE_IN_SUBMISSION = "duplicate_in_submission"
    MULTIPLE_HOUSEHOLDS = "multiple_households"
    ALREADY_REGISTERED = "already_registered"
    MEMBERS_LEFT = "members_left"
    OUTSIDE_AREA = "outside_area"


CONFLICT_NAMES = {
    ConflictKind.DUPLICATE_IN_SUBMISSION: "同一份提交中身份证号码重复",
    ConflictKind.MULTIPLE_HOUSEHOLDS: "成员已登记在其他户",
    ConflictKind.ALREADY_REGISTERED: "新登记户的成员已登记在其他户（分户、轮流赡养或重复登记）",
    ConflictKind.MEMBERS_LEFT: "复查时原有成员未列入（迁出、婚出、分户或死亡未登记）",
    ConflictKind.OUTSIDE_AREA: "住址或农户不在采集员的辖区内",
}


class Resolution(StrEnum):
    """How a reviewer resolves a conflict (SPEC §5)."""

    SAME_HOUSEHOLD = "same_household"  # it is all one household: the submission surveys it
    MOVED = "moved"  # a real move (marriage, 分户, elderly living in turn, 迁入/迁出) as stated
    ENTRY_ERROR = "entry_error"  # a data-entry error: the submission is corrected or rejected


RESOLUTION_NAMES = {
    Resolution.SAME_HOUSEHOLD: "同一户",
    Resolution.MOVED: "真实迁移（婚嫁、分户、轮流赡养、迁入迁出）",
    Resolution.ENTRY_ERROR: "录入错误",
}
CONFLICT_STATUS_NAMES = {"open": "待处理", "resolved": "已处理"}
FLAG_STATUS_NAMES = {"open": "待判定", "same": "同一人", "not_same": "不是同一人"}


# The resolutions that fit each kind of conflict. An ID twice in one roster can only be an
# entry error; people who left a household left it (or the roster is wrong); an address outside
# the helper's area is confirmed (the household moved in, or the survey across the border is
# right) or wrong.
RESOLUTIONS: dict[ConflictKind, frozenset[Resolution]] = {
    ConflictKind.DUPLICATE_IN_SUBMISSION: frozenset({Resolution.ENTRY_ERROR}),
    ConflictKind.MULTIPLE_HOUSEHOLDS: frozenset(Resolution),
    ConflictKind.ALREADY_REGISTERED: frozenset(Resolution),
    ConflictKind.MEMBERS_LEFT: frozenset({Resolution.MOVED, Resolution.ENTRY_ERROR}),
    ConflictKind.OUTSIDE_AREA: frozenset({Resolution.MOVED, Resolution.ENTRY_ERROR}),
}


@dataclass(frozen=True)
class Incoming:
    """A person as a submission lists them."""

    index: int  # 1-based position in the member roster
    id_number: str  # normalised
    name: str
    is_head: bool = False


@dataclass(frozen=True)
class Claim:
    """Where the submission says it belongs."""

    submitter_area: str  # the area of the user who sent it
    address_area: str = ""  # the address it gives (the most precise level answered)
    resurveys: str | None = None  # the registered household it resurveys; None: a new one


@dataclass(frozen=True)
class Registry:
    """What the registry holds about the households a submission touches."""

    households_of: Mapping[str, str] = field(default_factory=dict)  # ID -> household
    areas: Mapping[str, str] = field(default_factory=dict)  # household -> area code
    # household -> the IDs of its living members (the deceased stay on record, not counted)
    living: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    id_number: str
    member_indexes: tuple[int, ...]
    households: tuple[str, ...] = ()
    area_code: str = ""  # whose reviewers decide: the smallest area covering all involved

    @property
    def code(self) -> str:
        """The catalogue code of the submission's problem: ``CONFLICT_<KIND>``."""
        return f"CONFLICT_{self.kind.value.upper()}"

    @property
    def params(self) -> dict[str, str]:
        """Safe to show a helper: the ID masked (SPEC §7), the members' places."""
        return {"id_number": mask(self.id_number),
                "members": "、".join(map(str, self.member_indexes))}


@dataclass(frozen=True)
class Move:
    """A person who comes into the submission's household from another one (authorised)."""

    id_number: str
    from_household: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    household_id: str | None = None
    conflicts: tuple[Conflict, ...] = ()
    moves_in: tuple[Move, ...] = ()
    leaving: tuple[str, ...] = ()  # living members not on the roster who leave (authorised)


Authorisations = Mapping[tuple[str, str], Resolution]  # (kind, ID) -> a reviewer's resolution


def decide(people: Sequence[Incoming], claim: Claim, registry: Registry = Registry(),
           allowed: Authorisations | None = None) -> Decision:
    """What to do with a submission's people (SPEC §5).

    ``allowed`` holds the reviewer's resolutions of this submission's earlier conflicts, by
    (kind, ID number): a move or "same household" lets that person move, an accepted area lets
    the submission in.
    """
    allowed = allowed or {}
    head = next((p for p in people if p.is_head), people[0] if people else None)
    head_id = head.id_number if head else ""
    counts = Counter(person.id_number for person in people)
    duplicates = tuple(
        Conflict(ConflictKind.DUPLICATE_IN_SUBMISSION, id_number,
                 tuple(p.index for p in people if p.id_number == id_number),
                 area_code=common_area(claim.submitter_area, claim.address_area))
        for id_number, count in counts.items() if count > 1)
    if duplicates:
        return Decision(Outcome.CONFLICT, conflicts=duplicates)

    known = registry.households_of
    target = claim.resurveys or _same_household(people, known, allowed)
    involved = {known[p.id_number] for p in people if p.id_number in known} | (
        {target} if target else set())
    area = common_area(claim.submitter_area, claim.address_area,
                       *(registry.areas.get(h, "") for h in sorted(involved)))

    def conflict(kind: ConflictKind, id_number: str, indexes: tuple[int, ...],
                 households: Iterable[str]) -> Conflict:
        return Conflict(kind, id_number, indexes, tuple(sorted(set(households))), area)

    conflicts: list[Conflict] = []
    outside = sorted(h for h in involved
                     if not contains(claim.submitter_area, registry.areas.get(h, "")))
    if (claim.address_area and not contains(claim.submitter_area, claim.address_area)
            or outside) and not _granted(allowed, ConflictKind.OUTSIDE_AREA, head_id):
        conflicts.append(conflict(ConflictKind.OUTSIDE_AREA, head_id,
                                  (head.index,) if head else (), outside))
    moves: list[Move] = []
    kind = ConflictKind.MULTIPLE_HOUSEHOLDS if target else ConflictKind.ALREADY_REGISTERED
    for person in people:
        home = known.get(person.id_number)
        if home is None or home == target:
            continue
        if _granted(allowed, kind, person.id_number):
            moves.append(Move(person.id_number, home))
        else:
            conflicts.append(conflict(kind, person.id_number, (person.index,),
                                      [home, *([target] if target else [])]))
    leaving: list[str] = []
    if target:
        listed = {p.id_number for p in people}
        for id_number in sorted(registry.living.get(target, frozenset()) - listed):
            if _granted(allowed, ConflictKind.MEMBERS_LEFT, id_number):
                leaving.append(id_number)
            else:
                conflicts.append(conflict(ConflictKind.MEMBERS_LEFT, id_number, (), [target]))
    if conflicts:
        return Decision(Outcome.CONFLICT, household_id=target, conflicts=tuple(conflicts))
    return Decision(Outcome.UPDATE if target else Outcome.CREATE, household_id=target,
                    moves_in=tuple(moves), leaving=tuple(leaving))


def _granted(allowed: Authorisations, kind: ConflictKind, id_number: str) -> bool:
    return allowed.get((kind.value, id_number)) in (Resolution.MOVED, Resolution.SAME_HOUSEHOLD)


def _same_household(people: Sequence[Incoming], known: Mapping[str, str],
                    allowed: Authorisations) -> str | None:
    """The registered household a reviewer said a "new" household really is, if any."""
    for person in people:
        if (person.id_number in known and allowed.get(
                (ConflictKind.ALREADY_REGISTERED.value, person.id_number))
                is Resolution.SAME_HOUSEHOLD):
            return known[person.id_number]
    return None


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


def decides_flag(user_area: str, area_a: str | None, area_b: str | None) -> bool:
    """Whether a reviewer of ``user_area`` may judge a likely duplicate whose two people live in
    households of ``area_a`` and ``area_b`` (None: that person is in no household of the
    registry). Like a conflict (SPEC §5), a flag spanning two areas is decided only by a user
    whose area contains both households — the township of two of its villages, the county — not
    by either village alone; every reviewer who sees the flag may still read it."""
    return all(contains(user_area, area) for area in (area_a, area_b) if area)

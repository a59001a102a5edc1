"""server.domain.dedup: update, never duplicate; conflicts are held (SPEC §5)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.domain.dedup import (
    ConflictKind,
    Incoming,
    Outcome,
    PersonKey,
    decide,
    likely_duplicates,
    likely_same,
    pair,
)
from server.domain.idnumber import check_character

NEAR = "43042219800101001" + check_character("43042219800101001")  # one digit from HEAD's
HEAD = Incoming(1, "430421198001010011", "张三", is_head=True)
SPOUSE = Incoming(2, "430421198202020022", "李四")
CHILD = Incoming(3, "430421201001010033", "张小")


def test_nobody_known_creates_a_household():
    assert decide([HEAD, SPOUSE], {}).outcome is Outcome.CREATE


def test_a_known_head_updates_their_household():
    decision = decide([HEAD, SPOUSE, CHILD], {HEAD.id_number: "h1"})

    assert (decision.outcome, decision.household_id) == (Outcome.UPDATE, "h1")


def test_a_known_member_alone_also_finds_the_household():
    assert decide([HEAD, SPOUSE], {SPOUSE.id_number: "h1"}).household_id == "h1"


def test_people_in_two_households_are_a_conflict_naming_both():
    decision = decide([HEAD, SPOUSE], {HEAD.id_number: "h1", SPOUSE.id_number: "h2"})

    assert decision.outcome is Outcome.CONFLICT
    [conflict] = decision.conflicts
    assert conflict.kind is ConflictKind.MULTIPLE_HOUSEHOLDS
    assert conflict.id_number == SPOUSE.id_number and conflict.households == ("h1", "h2")


def test_the_same_id_twice_in_one_submission_is_a_conflict():
    twin = Incoming(3, SPOUSE.id_number, "李四")

    decision = decide([HEAD, SPOUSE, twin], {})

    assert decision.outcome is Outcome.CONFLICT
    assert decision.conflicts[0].kind is ConflictKind.DUPLICATE_IN_SUBMISSION
    assert decision.conflicts[0].member_indexes == (2, 3)
    assert "第2、3名成员" in decision.conflicts[0].message


def test_a_follow_up_form_names_its_household():
    assert decide([], {}, claimed_household="h9").household_id == "h9"
    assert decide([HEAD], {HEAD.id_number: "h1"}, "h9").outcome is Outcome.CONFLICT


ids = st.from_regex(r"43[0-9]{16}", fullmatch=True)


@given(st.lists(ids, min_size=1, max_size=8, unique=True),
       st.dictionaries(ids, st.sampled_from(["h1", "h2", "h3"]), max_size=6))
def test_a_decision_never_creates_when_someone_is_known(members, known):
    people = [Incoming(i + 1, id_number, "x", i == 0) for i, id_number in enumerate(members)]
    decision = decide(people, known)

    households = {known[m] for m in members if m in known}
    assert (decision.outcome is Outcome.CREATE) == (not households)
    assert (decision.outcome is Outcome.UPDATE) == (len(households) == 1)


def test_likely_duplicates_need_name_birth_and_one_digit():
    a = PersonKey("430421198001010011", "张三")

    assert likely_same(a, PersonKey(NEAR, "张三"))
    assert not likely_same(a, PersonKey(NEAR, "张山"))
    assert not likely_same(a, PersonKey("430421198001020011", "张三"))  # other birth date


def test_a_not_the_same_person_decision_is_remembered():
    a, b = PersonKey("430421198001010011", "张三"), PersonKey(NEAR, "张三")

    assert likely_duplicates(a, [b], not_same=set()) == [b]
    assert likely_duplicates(a, [b], not_same={pair(b.id_number, a.id_number)}) == []

"""server.domain.dedup: update, never duplicate; conflicts are held (SPEC §5)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.domain.areas import common_area
from server.domain.dedup import (
    Claim,
    ConflictKind,
    Incoming,
    Move,
    Outcome,
    PersonKey,
    Registry,
    Resolution,
    decide,
    decides_flag,
    likely_same,
)
from server.domain.idnumber import check_character

NEAR = "43042219800101001" + check_character("43042219800101001")  # one digit from HEAD's
HEAD = Incoming(1, "430421198001010011", "张三", is_head=True)
SPOUSE = Incoming(2, "430421198202020022", "李四")
CHILD = Incoming(3, "430421201001010033", "张小")


VILLAGE = "430421100201"
HERE = Claim(VILLAGE, f"{VILLAGE}001")
H1_HERE = Registry({HEAD.id_number: "h1", SPOUSE.id_number: "h1"}, {"h1": f"{VILLAGE}001"},
                   {"h1": frozenset({HEAD.id_number, SPOUSE.id_number})})


def resurvey(household: str) -> Claim:
    return Claim(VILLAGE, f"{VILLAGE}001", household)


def test_nobody_known_creates_a_household():
    assert decide([HEAD, SPOUSE], HERE).outcome is Outcome.CREATE


def test_a_resurvey_updates_its_household_with_a_new_member():
    """SPEC §5: natural changes (a birth) update the household without a conflict."""
    decision = decide([HEAD, SPOUSE, CHILD], resurvey("h1"), H1_HERE)

    assert (decision.outcome, decision.household_id) == (Outcome.UPDATE, "h1")
    assert decision.leaving == () and decision.moves_in == ()


def test_a_new_household_listing_registered_people_is_held_not_merged():
    """SPEC §5 (amended): a *new* household whose people belong to a registered household is
    a conflict naming each of them; it never takes the other household over."""
    father = Incoming(1, SPOUSE.id_number, "李四", is_head=True)

    decision = decide([father, CHILD], HERE, H1_HERE)

    assert decision.outcome is Outcome.CONFLICT
    [conflict] = decision.conflicts
    assert conflict.kind is ConflictKind.ALREADY_REGISTERED
    assert (conflict.id_number, conflict.households) == (SPOUSE.id_number, ("h1",))


def test_a_resurvey_dropping_members_is_held_naming_them():
    """SPEC §5 (amended): nobody leaves a household silently."""
    decision = decide([HEAD, CHILD], resurvey("h1"), H1_HERE)

    assert decision.outcome is Outcome.CONFLICT
    [conflict] = decision.conflicts
    assert (conflict.kind, conflict.id_number) == (ConflictKind.MEMBERS_LEFT, SPOUSE.id_number)


def test_a_resolved_move_lets_the_person_leave_and_the_other_household_keeps_the_rest():
    """SPEC §5: only a resolution moves people; the decision lists each one."""
    allowed = {(ConflictKind.MEMBERS_LEFT.value, SPOUSE.id_number): Resolution.MOVED}

    decision = decide([HEAD, CHILD], resurvey("h1"), H1_HERE, allowed)

    assert decision.outcome is Outcome.UPDATE and decision.leaving == (SPOUSE.id_number,)


def test_a_resolved_split_moves_the_person_into_the_new_household():
    father = Incoming(1, SPOUSE.id_number, "李四", is_head=True)
    allowed = {(ConflictKind.ALREADY_REGISTERED.value, SPOUSE.id_number): Resolution.MOVED}

    decision = decide([father, CHILD], HERE, H1_HERE, allowed)

    assert decision.outcome is Outcome.CREATE
    assert decision.moves_in == (Move(SPOUSE.id_number, "h1"),)


def test_same_household_turns_a_new_household_into_a_resurvey_of_it():
    allowed = {(ConflictKind.ALREADY_REGISTERED.value, HEAD.id_number):
               Resolution.SAME_HOUSEHOLD}

    decision = decide([HEAD, SPOUSE, CHILD], HERE, H1_HERE, allowed)

    assert (decision.outcome, decision.household_id) == (Outcome.UPDATE, "h1")


def test_people_in_two_households_are_a_conflict_naming_both():
    registry = Registry({HEAD.id_number: "h1", SPOUSE.id_number: "h2"},
                        {"h1": f"{VILLAGE}001", "h2": f"{VILLAGE}002"},
                        {"h1": frozenset({HEAD.id_number})})

    decision = decide([HEAD, SPOUSE], resurvey("h1"), registry)

    assert decision.outcome is Outcome.CONFLICT
    [conflict] = decision.conflicts
    assert conflict.kind is ConflictKind.MULTIPLE_HOUSEHOLDS
    assert conflict.id_number == SPOUSE.id_number and conflict.households == ("h1", "h2")
    assert conflict.area_code == VILLAGE


def test_an_address_outside_the_submitters_area_is_held_for_the_area_covering_both():
    """SPEC §5 (amended): a submission is taken in only inside its submitter's area."""
    elsewhere = Claim(VILLAGE, "430421101202001")

    decision = decide([HEAD, SPOUSE], elsewhere)

    [conflict] = decision.conflicts
    assert conflict.kind is ConflictKind.OUTSIDE_AREA
    assert conflict.area_code == "430421"  # the county covers both townships


def test_people_of_another_areas_household_are_held_for_the_area_covering_both():
    other = Registry({HEAD.id_number: "h9"}, {"h9": "430421101202001"},
                     {"h9": frozenset({HEAD.id_number})})

    decision = decide([HEAD, SPOUSE], HERE, other)

    kinds = {c.kind for c in decision.conflicts}
    assert kinds == {ConflictKind.OUTSIDE_AREA, ConflictKind.ALREADY_REGISTERED}
    assert {c.area_code for c in decision.conflicts} == {"430421"}


def test_the_same_id_twice_in_one_submission_is_a_conflict():
    twin = Incoming(3, SPOUSE.id_number, "李四")

    decision = decide([HEAD, SPOUSE, twin], HERE)

    assert decision.outcome is Outcome.CONFLICT
    assert decision.conflicts[0].kind is ConflictKind.DUPLICATE_IN_SUBMISSION
    assert decision.conflicts[0].member_indexes == (2, 3)


ids = st.from_regex(r"43[0-9]{16}", fullmatch=True)


@given(st.lists(ids, min_size=1, max_size=8, unique=True),
       st.dictionaries(ids, st.sampled_from(["h1", "h2", "h3"]), max_size=6),
       st.sampled_from([None, "h1", "h2"]))
def test_without_a_resolution_nobody_moves_and_nobody_leaves(members, known, resurveys):
    """SPEC §5: whatever the registry holds, an unresolved decision never moves a person out of
    a household nor leaves one behind: it creates only when nobody is known, updates only the
    household it resurveys, and otherwise holds."""
    people = [Incoming(i + 1, id_number, "x", i == 0) for i, id_number in enumerate(members)]
    living = {h: frozenset(i for i, home in known.items() if home == h) for h in ("h1", "h2")}
    registry = Registry(known, {h: f"{VILLAGE}001" for h in ("h1", "h2", "h3")}, living)

    decision = decide(people, resurvey(resurveys) if resurveys else HERE, registry)

    assert decision.moves_in == () and decision.leaving == ()
    homes = {known[m] for m in members if m in known}
    if decision.outcome is Outcome.CREATE:
        assert not homes
    if decision.outcome is Outcome.UPDATE:
        assert homes <= {resurveys} and living[resurveys] <= set(members)


def test_common_area_is_the_smallest_area_covering_all():
    assert common_area("430421100201", "430421100201001") == "430421100201"
    assert common_area("430421100201", "430421100202001") == "430421100"
    assert common_area("430421100201", "430422100202001") == "4304"
    assert common_area("430421100201", "", "440421100201") == ""


def test_likely_duplicates_need_name_birth_and_one_digit():
    a = PersonKey("430421198001010011", "张三")

    assert likely_same(a, PersonKey(NEAR, "张三"))
    assert not likely_same(a, PersonKey(NEAR, "张山"))
    assert not likely_same(a, PersonKey("430421198001020011", "张三"))  # other birth date


def test_a_flag_spanning_two_areas_is_decided_by_an_area_containing_both():
    """Issue 15 (9): either village alone may not decide a flag whose people live in two
    villages; their township and the county may; a person in no household does not count."""
    a, b = "430421107003", "430421107200"

    assert not decides_flag(a, a, b) and not decides_flag(b, a, b)
    assert decides_flag("430421107", a, b) and decides_flag("430421", a, b)
    assert not decides_flag("430421201", a, b)
    assert decides_flag(a, a, a) and decides_flag(a, a, None) and decides_flag(a, None, None)

"""server.domain.members: labour skill against age and disability (SPEC §3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.members import (
    LOST,
    NONE,
    ORDINARY,
    SKILLED,
    WEAK,
    Severity,
    labour_skill_findings,
)


@pytest.mark.parametrize("skill,age", [(NONE, 10), (ORDINARY, 16), (LOST, 40), (WEAK, 60),
                                       (WEAK, 70), (NONE, 80), (SKILLED, 35)])
def test_skills_the_source_allows_for_the_age_pass(skill, age):
    assert labour_skill_findings(skill, age) == []


@pytest.mark.parametrize("skill,age", [(ORDINARY, 15), (WEAK, 12), (LOST, 10), (NONE, 30),
                                       (ORDINARY, 61), (LOST, 75)])
def test_skills_the_source_excludes_for_the_age_are_errors(skill, age):
    [finding] = labour_skill_findings(skill, age)

    assert finding.severity is Severity.ERROR and finding.field == "A14"
    assert finding.code == "LABOUR_SKILL_AGE" and finding.params["age"] == age


@pytest.mark.parametrize("age", [14, 70])
def test_skilled_labour_outside_16_to_60_is_only_a_warning(age):
    [finding] = labour_skill_findings(SKILLED, age)

    assert finding.severity is Severity.WARNING


def test_an_adult_with_a_mild_disability_and_no_labour_is_a_warning():
    findings = labour_skill_findings(LOST, 40, disabled=True, disability_category=1,
                                     disability_level=3)

    assert [f.code for f in findings] == ["LABOUR_SKILL_DISABILITY"]


@pytest.mark.parametrize("category,level", [(4, 1), (4, 2), (5, 3), (6, 4)])
def test_severe_physical_mental_or_intellectual_disability_needs_no_warning(category, level):
    assert labour_skill_findings(LOST, 40, disabled=True, disability_category=category,
                                 disability_level=level) == []


@given(st.sampled_from([ORDINARY, SKILLED, LOST, NONE, WEAK]), st.integers(0, 110))
def test_every_age_has_exactly_the_allowed_skills(skill, age):
    errors = [f for f in labour_skill_findings(skill, age) if f.severity is Severity.ERROR]
    if age < 16:
        allowed = {NONE, SKILLED}
    elif age <= 60:
        allowed = {ORDINARY, SKILLED, LOST, WEAK}
    else:
        allowed = {WEAK, NONE, SKILLED}
    assert (errors == []) == (skill in allowed)


def test_labour_capacity_counts_only_living_members_with_some_capacity():
    """SPEC §6 "暂不": a household whose living members all lack labour capacity."""
    from server.domain.members import has_labour_capacity

    assert has_labour_capacity([{"a14_labour_skill": NONE}, {"a14_labour_skill": WEAK}])
    assert not has_labour_capacity([{"a14_labour_skill": NONE},
                                    {"a14_labour_skill": ORDINARY, "deceased": "01"}])
    assert not has_labour_capacity([{"a14_labour_skill": LOST}])

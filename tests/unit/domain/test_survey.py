"""server.domain.survey: the server re-validates and recomputes a household survey (issue 5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from server.domain.survey import read_survey
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS

TODAY = date(2026, 11, 24)
LINE = Decimal("6500")


def survey(household=None, members=None):
    return read_survey({**SURVEY_FIELDS, **(household or {})},
                       members if members is not None else [HEAD, SPOUSE, CHILD], LINE, TODAY)


def test_a_valid_household_is_read_and_computed_by_the_server():
    result = survey()

    assert result.errors == []
    assert result.size == 3
    assert result.derived.a33_net_income == Decimal("15500")
    assert result.derived.a38_income_reference_per_capita == Decimal("4500")
    assert result.a26_member_uninsured  # the child has A17 = 否
    assert result.proposal.monitoring_type == "02"  # not formerly poor, A34 < line, a risk
    assert result.head.name == "张三"
    assert result.income_period.start == date(2020, 5, 1)


def test_each_error_names_the_field_the_member_and_the_rule():
    broken = {**SPOUSE, "a7_id_number": SPOUSE["a7_id_number"][:17] + "0"}

    result = survey(members=[HEAD, broken])

    [problem] = result.errors
    assert (problem.code, problem.field, problem.member) == ("ID_CHECKSUM", "A7", 2)
    assert problem.params["given"] == "0" and problem.text  # located, in Chinese


def test_two_heads_or_none_is_an_error():
    assert [p.code for p in survey(members=[HEAD, {**SPOUSE, "a8_relation": "01"}]).errors] == [
        "HEAD_COUNT"]
    assert [p.code for p in survey(members=[SPOUSE]).errors] == ["HEAD_COUNT"]


def test_a_child_with_ordinary_labour_is_an_error_and_skilled_a_warning():
    assert [p.code for p in survey(members=[HEAD, {**CHILD, "a14_labour_skill": "01"}]).errors
            ] == ["LABOUR_SKILL_AGE"]
    result = survey(members=[HEAD, {**CHILD, "a14_labour_skill": "02"}])
    assert result.errors == [] and [p.code for p in result.warnings] == ["LABOUR_SKILL_AGE_UNUSUAL"]


def test_negative_money_and_missing_income_items_are_errors():
    """SPEC §2: A28–A36 ≥ 0 and no indicator left empty; one problem per bad value (issue 11:
    a negative A28 is FIELD_INVALID only, no longer also FIELD_REQUIRED)."""
    result = survey({"a28_wages": "-5", "a30_property_income": ""})

    assert sorted((p.code, p.field) for p in result.errors) == [("FIELD_INVALID", "A28"),
                                                               ("FIELD_REQUIRED", "A30")]
    assert result.derived is None


def test_the_phones_differing_values_are_kept_beside_the_servers():
    result = survey({"a33_net_income": "15500.00", "a34_net_income_per_capita": "5000",
                     "household_size": "3"})

    assert result.phone_differs == {"a34_net_income_per_capita": ("5000", "5166.67")}


def test_work_months_in_half_steps_between_0_and_12():
    bad = survey(members=[{**HEAD, "a16_work_months": "3.3"}, SPOUSE])
    good = survey(members=[{**HEAD, "a16_work_months": "3.5"}, SPOUSE])

    assert [p.code for p in bad.errors] == ["WORK_MONTHS_RANGE"] and good.errors == []


def test_type_03_below_the_line_is_refused():
    result = survey({"a3_monitoring_type": "03"})

    assert [p.code for p in result.errors] == ["MONITORING_TYPE_SUDDEN_BELOW_LINE"]


def test_a_deceased_member_counts_in_this_surveys_size():
    result = survey(members=[HEAD, {**SPOUSE, "deceased": "01", "death_date": "2021-04-01"}])

    assert result.size == 2 and result.members[1].deceased

"""How the console lays out a form's values (issue 13, pages 4 and 5): labels from the code
tables, two survey versions compared person by person, problems located beside their values."""

from __future__ import annotations

from server.domain import codes
from server.domain.fields import (
    HOUSING_UNSAFE,
    ID_NUMBER,
    MONITORING_TYPE,
    NAME,
    NET_INCOME_PER_CAPITA,
    RISK_TYPES,
    SEX,
    WAGES,
    WORK_AREA,
    WORK_PLACE,
    Scope,
)
from server.domain.sheets import (
    compare,
    fields_named,
    geopoint,
    review_sheet,
    sheet,
    shown_value,
)
from tests.support.households import CHILD, HEAD, SPOUSE


def test_a_value_is_shown_with_its_code_tables_labels():
    assert shown_value(HOUSING_UNSAFE, codes.YES) == "是"
    assert shown_value(RISK_TYPES, "01 03") == "因病、因残"
    assert shown_value(RISK_TYPES, "01 77") == "因病、77"  # a code outside the table as given
    assert shown_value(SEX, "2") == "女"
    assert shown_value(WAGES, "12000") == "12000"
    assert shown_value(MONITORING_TYPE, "") == ""


def test_a_sheet_lists_the_known_values_in_code_order():
    values = {WAGES.name: "12000", HOUSING_UNSAFE.name: codes.NO, "photo_house": "a.jpg",
              "phone": "13812345678", MONITORING_TYPE.name: "", "members_check": "OK"}

    assert [spec.name for spec, _ in sheet(values)] == [
        HOUSING_UNSAFE.name, WAGES.name, "phone"]
    assert sheet(values, coded_only=True) == [(HOUSING_UNSAFE, codes.NO), (WAGES, "12000")]
    assert sheet(HEAD, Scope.MEMBER)[0] == (NAME, "张三")


def test_a_problem_names_its_fields_by_name_code_or_label():
    assert fields_named(WAGES.name) == (WAGES,)
    assert fields_named(WORK_AREA.code) == (WORK_AREA, WORK_PLACE)
    assert fields_named("死亡日期")[0].label == "死亡日期"
    assert fields_named(NAME.code, Scope.MEMBER) == (NAME,)
    assert fields_named("户") == ()


def test_two_versions_are_compared_person_by_person_in_code_order():
    """SPEC §5: a person is their ID number — a resurvey that moves them in the roster still
    compares them with themselves; a newcomer is added, a member left out is removed."""
    left = {WAGES.name: "12000", HOUSING_UNSAFE.name: codes.NO, "photo_house": "a.jpg"}
    right = {WAGES.name: "20000", HOUSING_UNSAFE.name: codes.NO, "photo_house": "b.jpg",
             NET_INCOME_PER_CAPITA.name: "6000.00"}
    moved_spouse = {**SPOUSE, "a14_labour_skill": "01"}

    result = compare(left, [HEAD, SPOUSE], right, [moved_spouse, HEAD, CHILD])

    assert [(row.field, row.left, row.right, row.changed) for row in result.household] == [
        (HOUSING_UNSAFE, codes.NO, codes.NO, False),
        (WAGES, "12000", "20000", True),
        (NET_INCOME_PER_CAPITA, "", "6000.00", True),
    ]  # in code order, the photo's file name left out
    assert [(m.name, m.status, m.changed) for m in result.members] == [
        ("李四", "both", True), ("张三", "both", False), ("张小", "added", True)]
    [skill] = [row for row in result.members[0].rows if row.changed]
    assert (skill.left, skill.right) == ("05", "01")
    assert result.changes == 4

    gone = compare(right, [HEAD, SPOUSE], right, [HEAD])

    assert [(m.name, m.status) for m in gone.members] == [("张三", "both"), ("李四", "removed")]
    assert all(row.right == "" for row in gone.members[1].rows)


def test_problems_are_located_beside_their_values_with_the_corrections():
    """Issue 13 page 5: each located problem beside the value it is about — a member's problem
    on that member's line, a required value that is missing gets its line, a problem about the
    whole form stays apart."""
    household = {WAGES.name: "12,000", HOUSING_UNSAFE.name: codes.NO, "members_check": "OK"}
    members = [HEAD, {**SPOUSE, ID_NUMBER.name: "430421198202020221"}]
    problems = [
        {"severity": "error", "code": "NUMBER_SEPARATORS", "field": WAGES.code, "member": None,
         "message": "…"},
        {"severity": "error", "code": "ID_CHECKSUM", "field": ID_NUMBER.code, "member": 2,
         "message": "…"},
        {"severity": "error", "code": "FIELD_REQUIRED", "field": MONITORING_TYPE.code,
         "member": None, "message": "…"},
        {"severity": "error", "code": "TAKE_IN_FAILED", "field": "", "member": None,
         "message": "…"},
    ]

    sheet = review_sheet(household, members, problems, {WAGES.name: "12000"})

    lines = {line.key: line for line in sheet.household}
    assert [p.code for p in lines[WAGES.name].problems] == ["NUMBER_SEPARATORS"]
    assert lines[WAGES.name].corrected == "12000" and lines[WAGES.name].has_error
    assert lines[MONITORING_TYPE.name].value == "" and lines[MONITORING_TYPE.name].has_error
    assert not lines[HOUSING_UNSAFE.name].problems
    assert [line.field for line in sheet.household] == [MONITORING_TYPE, HOUSING_UNSAFE, WAGES]
    spouse = {line.key: line for line in sheet.members[1].lines}
    assert [p.code for p in spouse[f"members[2]/{ID_NUMBER.name}"].problems] == ["ID_CHECKSUM"]
    assert not any(line.problems for line in sheet.members[0].lines)
    assert [p.code for p in sheet.unlocated] == ["TAKE_IN_FAILED"]
    assert sheet.other_values == {"members_check": "OK"}


def test_a_gps_answer_is_a_point_with_a_geo_uri():
    point = geopoint("26.9 112.6 60 5")
    assert (point.latitude, point.longitude, point.altitude, point.accuracy) == (
        "26.9", "112.6", "60", "5")
    assert point.uri == "geo:26.9,112.6"
    assert geopoint("26.9 112.6").accuracy is None
    assert geopoint("") is None and geopoint("north 112") is None and geopoint("95 1") is None

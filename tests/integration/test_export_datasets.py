"""The export datasets read from the registry the real services wrote (issue 14), on SQLite
and PostgreSQL: measures, elimination assessments, evaluations and department warning tasks
with their values, filters on each dataset's own date, the counts a progress bar shows, and the
area scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from server.auth import Principal
from server.clock import today
from server.domain import codes, fields
from server.domain.datasets import DATASETS, Masking, cells
from server.domain.idnumber import mask
from server.domain.roles import Role
from server.exports import queries
from server.households.models import Household
from server.monitoring.services import record_evaluation
from server.screening.models import WarningList, WarningRow
from tests.integration.conftest import user
from tests.integration.test_registry import (
    MEASURES,
    elimination_values,
    submit,
    submit_form,
)
from tests.support.cases import monitoring_object
from tests.support.households import CHILD, HEAD, HEAD_ID, SPOUSE
from tests.support.seed import OTHER_TOWNSHIP


def _rows(session, reader, name: str, labels: bool = False, **filters) -> list[dict]:
    dataset = DATASETS[name]
    found = list(queries.rows(session, reader, dataset, filters, today()))
    assert queries.count(session, reader, dataset, filters, today()) == len(found)
    columns = dataset.columns
    masking = Masking(reader.role, reader.area_code, full=False)
    return [dict(zip([c.header for c in columns], cells(columns, row, labels, masking),
                     strict=True)) for row in found]


@pytest.fixture
def household(session, helper, seeded) -> str:
    """A household surveyed, with measures and an elimination assessment taken in from the
    forms, a monitoring object with an evaluation, and a department warning task checked."""
    _, survey = submit(session, helper, seeded, [HEAD, SPOUSE, CHILD])
    household_id = survey.household_id
    state, _ = submit_form(session, helper, seeded, "measures",
                           {"household": household_id, **MEASURES})
    assert state == "applied"
    state, _ = submit_form(session, helper, seeded, "elimination",
                           elimination_values(household_id))
    assert state == "applied"
    monitoring_object(session, household_id)
    village = user(session, "village")
    record_evaluation(session, village, household_id, today(), "刘强（洪市镇人民政府）",
                      "产业帮扶见效，收入稳定", today())
    county = user(session, "county")
    warning_list = WarningList(filename="医保局预警.xlsx", uploaded_by=county.id,
                               area_code=county.area_code)
    session.add(warning_list)
    session.flush()
    session.add(WarningRow(
        list_id=warning_list.id, row_number=2, department="医保局", id_number=HEAD_ID,
        reason="大额医疗支出", reported_on=date(2026, 3, 1), status="matched",
        household_id=household_id, area_code=session.get(Household, household_id).area_code,
        check_result="已入户核查，已报销", outcome="01", checked_by=village.id,
        checked_at=datetime(2026, 3, 5, 2, 0, tzinfo=UTC)))
    session.commit()
    return household_id


def test_measures_with_their_effects_codes_or_labels(session, household):
    county = user(session, "county")

    [coded] = _rows(session, county, "measures")
    [named] = _rows(session, county, "measures", labels=True)

    assert coded["户编号"] == household and coded["户主姓名"] == "张三"
    assert coded["户主身份证号码"] == mask(HEAD_ID)
    assert coded[fields.INDUSTRY.header] == "01 03"
    assert "；" in named[fields.INDUSTRY.header]
    assert coded[fields.effect_of(fields.INDUSTRY).header] == "发展养殖，年增收3000元"
    assert coded[fields.BY_NAME["measure_date"].header] == date(2021, 6, 1)
    assert coded[fields.BY_NAME["green_channel"].header] == "02"
    assert named[fields.BY_NAME["green_channel"].header] == "否"
    # the visit-date filter reads the measure's own date
    assert _rows(session, county, "measures", visit_from=date(2021, 6, 2)) == []
    assert len(_rows(session, county, "measures", visit_to=date(2021, 6, 1))) == 1


def test_elimination_assessments_with_the_servers_figures(session, household):
    county = user(session, "county")

    [row] = _rows(session, county, "eliminations")

    assert row[fields.NET_INCOME_PER_CAPITA.header] == Decimal("11166.67")
    assert row[fields.WAGES.header] == Decimal("30000.00")
    assert row[fields.ELIMINATION_METHOD.header] == "01"
    assert row["收入持续稳定"] == "01" and row["是否符合风险消除标准"] == "01"
    assert row[fields.BY_NAME["household_size"].header] == 3
    assert row[fields.BY_NAME["visit_date"].header] == date(2022, 6, 1)


def test_evaluations_and_warning_tasks(session, household):
    county = user(session, "county")

    [evaluation] = _rows(session, county, "evaluations")
    [task] = _rows(session, county, "warnings", labels=True)

    assert evaluation["评估人"] == "刘强（洪市镇人民政府）"
    assert evaluation["评估日期"] == today() and evaluation["录入人"] == "测试village"
    assert task["预警部门"] == "医保局" and task["身份证号码"] == mask(HEAD_ID)
    assert task["核查结论"] == codes.WARNING_CHECK_OUTCOME.label("01")
    assert task["核查人"] == "测试village"
    assert task["核查时间"] == datetime(2026, 3, 5, 10, 0)  # Beijing
    assert task["户主姓名"] == "张三" and task["乡镇（街道）"] == "洪市镇"


def test_members_count_and_monitoring_objects(session, household):
    county = user(session, "county")

    members = _rows(session, county, "members", objects=True)

    assert [m[fields.NAME.header] for m in members] == ["张三", "李四", "张小"]
    assert [m["成员序号"] for m in members] == [1, 2, 3]


def test_nothing_outside_the_readers_area(session, household):
    elsewhere = Principal(0, "elsewhere", Role.TOWNSHIP, OTHER_TOWNSHIP)
    for name in DATASETS:
        assert _rows(session, elsewhere, name) == [], name

"""The export datasets' columns and cells (issue 14, SPEC §7): A-fields in A-code order with
the registry's headers, codes or labels, money with two places, dates, Beijing time, masking by
the one rule, the national profile."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from server.domain import fields
from server.domain.datasets import (
    DATASETS,
    Cell,
    Dataset,
    Format,
    Masking,
    Profile,
    cell_value,
    describe_filters,
    field_column,
    file_name,
)
from server.domain.fields import a_code_key

ID = "430421198001010011"
COUNTY = Masking("county", "430421", full=False)
COUNTY_FULL = Masking("county", "430421", full=True)
TOWNSHIP_FULL = Masking("township", "430421107", full=True)


@pytest.mark.parametrize("dataset", list(DATASETS.values()), ids=list(DATASETS))
def test_each_dataset_has_its_a_fields_in_code_order_and_unique_headers(dataset: Dataset):
    headers = [c.header for c in dataset.columns]
    assert len(headers) == len(set(headers))
    codes = [h.split(" ")[0] for h in headers if h[:1] == "A" and h[1:2].isdigit()]
    assert codes == sorted(codes, key=a_code_key)
    by_header = {f.header: f for f in fields.FIELDS}
    for column in dataset.columns:  # a field's column is headed and keyed as the registry says
        if column.header in by_header and column.key in fields.BY_NAME:
            assert fields.BY_NAME[column.key].header == column.header


def test_the_household_dataset_heads_money_as_the_registry_does():
    headers = [c.header for c in DATASETS["households"].columns]
    assert "A28 工资性收入(元)" in headers
    assert headers.index("A28 工资性收入(元)") < headers.index("A34 家庭人均纯收入(元)")
    assert not any(f.kind is fields.Kind.IMAGE and f.header in headers for f in fields.FIELDS)


def test_the_national_profile_leaves_out_archive_only_fields():
    households = DATASETS["households"]
    full = households.columns_of(Profile.FULL)
    national = households.columns_of(Profile.NATIONAL)
    assert [c.key for c in full if c.archive_only] == ["fill_date"]
    assert [c for c in full if not c.archive_only] == list(national)


def test_money_is_a_decimal_with_two_places_and_dates_are_dates():
    wages = field_column(fields.WAGES)
    assert wages.cell is Cell.MONEY
    assert cell_value(wages, "12000", False, COUNTY) == Decimal("12000.00")
    assert str(cell_value(wages, Decimal("1500.5"), False, COUNTY)) == "1500.50"
    assert cell_value(wages, "", False, COUNTY) is None
    assert cell_value(wages, "n/a", False, COUNTY) == "n/a"  # written as stored, never lost
    visit = field_column(fields.BY_NAME["visit_date"])
    assert cell_value(visit, "2021-05-12", False, COUNTY) == date(2021, 5, 12)
    months = field_column(fields.WORK_MONTHS)
    assert cell_value(months, "3.5", False, COUNTY) == Decimal("3.5")


def test_a_moment_is_written_in_beijing_time():
    column = DATASETS["cases"].columns[-1]  # 办结时间
    assert column.cell is Cell.MOMENT
    assert cell_value(column, datetime(2026, 4, 30, 17, 0, tzinfo=UTC), False, COUNTY) == \
        datetime(2026, 5, 1, 1, 0)


def test_codes_or_labels():
    risks = field_column(fields.RISK_TYPES)
    relation = field_column(fields.RELATION)
    assert cell_value(risks, "01 09", False, COUNTY) == "01 09"
    assert cell_value(risks, "01 09", True, COUNTY) == "因病；其他（文字备注）"
    assert cell_value(relation, "02", True, COUNTY) == "配偶"
    assert cell_value(relation, "77", True, COUNTY) == "77"  # unknown code: as stored
    sex = field_column(fields.SEX)
    assert cell_value(sex, "2", False, COUNTY) == "女"
    step = next(c for c in DATASETS["cases"].columns if c.key == "step")
    assert cell_value(step, "county_approval", False, COUNTY) == "县级审定"


def test_numbers_are_masked_unless_asked_by_a_role_that_sees_them():
    head = next(c for c in DATASETS["households"].columns if c.key == "head_id_number")
    phone = field_column(fields.BY_NAME["phone"])
    assert cell_value(head, ID, False, COUNTY) == "430421********0011"
    assert cell_value(head, ID, False, COUNTY_FULL) == ID
    assert cell_value(head, ID, False, TOWNSHIP_FULL) == "430421********0011"
    assert cell_value(phone, "13812345678", False, COUNTY) == "138****5678"
    assert cell_value(phone, "13812345678", False, COUNTY_FULL, "430421107003001") == \
        "13812345678"
    assert cell_value(phone, "13812345678", False, TOWNSHIP_FULL, "430421107003001") == \
        "138****5678"


def test_the_filter_is_described_in_words():
    households = DATASETS["households"]
    assert describe_filters(households, {}, {}) == [("筛选", "无（本辖区全部）")]
    described = describe_filters(households, {
        "area_code": "430421107", "monitoring_type": "02", "objects": True, "risk": "6",
        "visit_from": date(2026, 1, 1), "step": "public_notice"}, {"430421107": "洪市镇"})
    assert described == [("区划", "洪市镇（430421107）"), ("监测对象类型", "边缘易致贫户"),
                         ("返贫致贫风险", "6 因病"), ("环节", "村级公示"),
                         ("入户核实日期起", "2026-01-01"), ("范围", "仅监测对象")]
    measures = describe_filters(DATASETS["measures"], {"visit_to": date(2026, 2, 1)}, {})
    assert measures == [("帮扶措施录入日期止", "2026-02-01")]


def test_the_file_is_named_in_chinese_in_beijing_time():
    at = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)
    assert file_name(DATASETS["members"], "衡阳县", at, Format.XLSX) == \
        "家庭成员_衡阳县_20261206-0030.xlsx"

"""The assistance-measures form (帮扶措施, stage two: A39–A52 and the effect of each).

``xlsforms/measures.xlsx`` is built with ``build_xform(validate=True)`` (pyxform, then
JavaRosa through ODK Validate); the XForm is checked with XPath, and filled in ODK Web Forms'
engine (``tests.support.engine``) with a two-household entity list ``households.csv`` and an
``areas.csv``: the engine evaluates the form's own expressions, nothing is re-implemented here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from server.domain.fields import BY_NAME, Kind
from server.forms.build import BuiltForm
from tests.support.engine import Outcome
from tests.support.households import HH1, HH2
from tests.support.xform import (
    HOUSEHOLDS_HEADER,
    JR,
    areas_csv,
    assert_lists_are_code_tables,
    assert_valid,
    bind,
    csv_attachment,
    fill_cases,
    list_items,
    one,
    ref_tag,
    registered_binds,
    secondary_instances,
    settings_header,
    squash,
)

FORM = Path(__file__).resolve().parents[2] / "xlsforms" / "measures.xlsx"
# The module-scoped form and engine runs are built once: one parallel worker runs the module.
pytestmark = pytest.mark.xdist_group("form_measures")

# The measures in A-code order: (field, group, kind) — kind multi | one | tick (是则勾选).
MEASURES = [
    ("a39_industry", "income", "multi"), ("a40_employment", "income", "multi"),
    ("a41_finance", "income", "multi"), ("a42_welfare_job", "income", "one"),
    ("a43_housing", "basic_needs", "one"), ("a44_water", "basic_needs", "tick"),
    ("a45_health", "basic_needs", "multi"), ("a46_compulsory_education", "basic_needs", "multi"),
    ("a47_education", "basic_needs", "multi"), ("a48_social_protection", "safety_net", "multi"),
    ("a49_social_help", "other", "multi"), ("a50_relocation", "other", "tick"),
    ("a51_living_conditions", "other", "tick"), ("a52_infrastructure", "other", "tick"),
]
PATH = {field: f"/data/{group}/{field}" for field, group, _ in MEASURES}
EFFECT = {field: f"/data/{group}/{field[:3]}_effect" for field, group, _ in MEASURES}

HOUSEHOLDS = csv_attachment(
    HOUSEHOLDS_HEADER,
    f"{HH1},张三 第一村民小组,3,430421,430421100,430421100201,"
    "430421100201001,张三,430421********0113,4,13812345678,02,01,01,30000,3000,0,2000,1000,0,"
    "500,王五,13900000000,01",
    f"{HH2},李四 第二村民小组,1,430421,430421100,430421100201,"
    "430421100201002,李四,430421********0221,2,13812345679,02,02,02,0,0,0,16000,0,0,0,王五,"
    "13900000000,02",
)
ATTACHMENTS = {"households.csv": HOUSEHOLDS, "areas.csv": areas_csv("430421100201", groups=2)}

BASE = [("/data/household", HH1), ("/data/green_channel", "02")]
CONFIRM = [("/data/measures_confirm", "OK")]
CASES: dict[str, list[tuple[str, object]]] = {
    "valid": BASE + [
        (PATH["a39_industry"], "01 03"), (EFFECT["a39_industry"], "养猪10头，年增收8000元"),
        (PATH["a42_welfare_job"], "03"), (EFFECT["a42_welfare_job"], "保洁员岗位，月收入800元"),
        (PATH["a48_social_protection"], "01"), (EFFECT["a48_social_protection"], "纳入低保"),
        (PATH["a44_water"], "01"), (EFFECT["a44_water"], "接通自来水"),
    ] + CONFIRM,
    "nothing_chosen": BASE + CONFIRM,
    "effect_missing": BASE + [(PATH["a40_employment"], "02")] + CONFIRM,
    "second_household": [("/data/household", HH2), ("/data/green_channel", "01"),
                         (PATH["a50_relocation"], "01"), (EFFECT["a50_relocation"], "已搬迁入住")]
    + CONFIRM,
}


@pytest.fixture(scope="module")
def outcomes(form: BuiltForm) -> dict[str, Outcome]:
    return fill_cases(form, ATTACHMENTS, CASES)


# --- the build -----------------------------------------------------------------------------


def test_form_builds_and_loads_in_javarosa_without_warnings(form: BuiltForm) -> None:
    """Issue 4: the form builds with pyxform and loads in JavaRosa (ODK Validate), no warnings."""
    assert form.warnings == ()
    assert form.form_id == "measures"
    assert form.title == "防止返贫监测对象帮扶措施录入"


def test_settings_have_no_version_column() -> None:
    """xlsforms/README: the server versions a form by its content; no version column."""
    assert settings_header(FORM) == ["form_id", "form_title", "instance_name"]


def test_the_household_is_picked_from_the_entity_list(form: BuiltForm, doc: etree._Element) -> None:
    """SPEC §2 follow-up forms: pick the household from the helper's list (households.csv)."""
    assert form.media == ("areas.csv", "households.csv")
    households = one(doc, "/h:html/h:head/x:model/x:instance[@id='households']")
    assert households.get("src") == "jr://file-csv/households.csv"
    itemset = one(doc, "//x:select1[@ref='/data/household']/x:itemset")
    assert itemset.get("nodeset") == "instance('households')/root/item"
    assert one(itemset, "x:value").get("ref") == "name"
    assert one(itemset, "x:label").get("ref") == "label"
    assert bind(doc, "/data/household").get("required") == "true()"


@pytest.mark.parametrize("prop", ["head_name", "head_id_masked", "a3_monitoring_type",
                                  "household_size"])
def test_known_facts_are_looked_up_in_the_entity_list(doc: etree._Element, prop: str) -> None:
    """SPEC §2: the follow-up form shows what is known of the household (prefill)."""
    calc = squash(bind(doc, f"/data/hh_{prop}").get("calculate"))
    assert calc == f"instance('households')/root/item[name = /data/household ]/{prop}"


@pytest.mark.parametrize(("field", "group", "kind"), MEASURES)
def test_each_measure_is_an_optional_choice_with_its_table(
    doc: etree._Element, field: str, group: str, kind: str
) -> None:
    """SPEC §2: A39–A41, A45–A49 multiple; A42, A43 single; A44, A50–A52 是则勾选; not required."""
    control = "x:select1" if kind == "one" else "x:select"
    table = BY_NAME[field].table
    itemset = one(doc, f"//{control}[@ref='{PATH[field]}']/x:itemset")
    assert itemset.get("nodeset") == f"instance('{table}')/root/item"
    assert bind(doc, PATH[field]).get("required") is None
    if kind == "tick":
        assert list_items(doc, table) == [("01", "是")]


@pytest.mark.parametrize(("field", "group", "kind"), MEASURES)
def test_each_effect_is_required_when_its_measure_is_chosen(
    doc: etree._Element, field: str, group: str, kind: str
) -> None:
    """附件4 帮扶成效 据实填写: the effect of each measure, asked when the measure is chosen."""
    effect = bind(doc, EFFECT[field])
    assert effect.get("required") == "true()"
    expected = (f"{PATH[field]} != ''" if kind == "one"
                else f"count-selected( {PATH[field]} ) > 0")
    assert squash(effect.get("relevant")) == expected


def test_at_least_one_measure_is_required_by_a_constraint(doc: etree._Element) -> None:
    """Brief: at least one measure overall (count-selected of every group > 0), Chinese message."""
    count = squash(bind(doc, "/data/measures_count").get("calculate"))
    for field, _, kind in MEASURES:
        term = (f"if( {PATH[field]} != '', 1, 0)" if kind == "one"
                else f"count-selected( {PATH[field]} )")
        assert term in count, field
    confirm = bind(doc, "/data/measures_confirm")
    assert squash(confirm.get("constraint")) == "/data/measures_count > 0"
    assert confirm.get("required") == "true()"
    assert "至少录入一项帮扶措施" in confirm.get(f"{JR}constraintMsg")


def test_measure_date_defaults_to_today_and_green_channel_is_yes_no(doc: etree._Element) -> None:
    """SPEC §6 / issue 6: the record's date (today by default) and 帮扶先行 (green channel)."""
    setvalue = one(doc, "//x:setvalue[@ref='/data/measure_date']")
    assert (setvalue.get("event"), setvalue.get("value")) == ("odk-instance-first-load", "today()")
    assert squash(bind(doc, "/data/measure_date").get("constraint")) == ". <= today()"
    itemset = one(doc, "//x:select1[@ref='/data/green_channel']/x:itemset")
    assert itemset.get("nodeset") == "instance('yes_no')/root/item"
    assert bind(doc, "/data/green_channel").get("required") == "true()"


def test_every_choice_list_is_the_code_table(doc: etree._Element) -> None:
    """SPEC §2: code tables of 附件6 as choices, codes and labels exactly as codes.TABLES."""
    lists = secondary_instances(doc) - {"households", "areas"}
    assert lists == {"yes_no", "a3_monitoring_type", *(BY_NAME[f].table for f, _, _ in MEASURES)}
    assert_lists_are_code_tables(doc, lists)


def test_every_registered_field_has_the_registry_kind(doc: etree._Element) -> None:
    """DESIGN (one registry of fields): A-fields use the registry's names and kinds."""
    kinds = {"select1": Kind.SELECT_ONE, "select": Kind.SELECT_MULTIPLE}
    types = {"string": Kind.TEXT, "date": Kind.DATE}
    seen = set()
    for field, b in registered_binds(doc):
        seen.add(field.name)
        local = ref_tag(doc, b.get("nodeset"))
        assert kinds.get(local, types.get(b.get("type"))) is field.kind, field.name
    assert seen == {f.name for f in BY_NAME.values() if f.stage == 2}


def test_no_monitoring_figure_is_hard_coded(form: BuiltForm) -> None:
    """SPEC §3: the line and the floor are data, never constants in a form."""
    assert "6500" not in form.xml.decode() and "5000" not in form.xml.decode()


# --- in the engine -------------------------------------------------------------------------


def test_a_valid_record_fills_without_violations(outcomes: dict[str, Outcome]) -> None:
    """SPEC §2: multi-choice groups, a single choice and a tick, each with its effect: valid."""
    outcome = outcomes["valid"]
    assert_valid(outcome)
    assert outcome.value("/data/measures_count") == "5"
    assert outcome.value(PATH["a39_industry"]) == "01 03"
    assert outcome.node(EFFECT["a40_employment"])["relevant"] is False
    assert outcome.value("/data/meta/instanceName").startswith("帮扶措施-张三-")


def test_nothing_selected_violates_the_at_least_one_measure_rule(
    outcomes: dict[str, Outcome],
) -> None:
    """Brief: a record without any measure cannot be finalised (SPEC: choice items optional)."""
    outcome = outcomes["nothing_chosen"]
    assert outcome.exit_code == 0
    assert outcome.violations() == {"/data/measures_confirm": "constraint"}
    assert outcome.value("/data/measures_count") == "0"


def test_a_chosen_measure_requires_its_effect(outcomes: dict[str, Outcome]) -> None:
    """附件4: 帮扶成效 据实填写 — a measure without its effect is incomplete."""
    outcome = outcomes["effect_missing"]
    assert outcome.violations() == {EFFECT["a40_employment"]: "required"}


def test_the_household_list_drives_the_known_facts(outcomes: dict[str, Outcome]) -> None:
    """SPEC §2: the phone shows the picked household's head, address, type and size."""
    outcome = outcomes["second_household"]
    assert outcome.valid, outcome.violations()
    assert outcome.options("/data/household") == [HH1, HH2]
    labels = [o["label"] for o in outcome.node("/data/household")["options"]]
    assert labels == ["张三 第一村民小组", "李四 第二村民小组"]
    assert outcome.value("/data/hh_head_name") == "李四"
    assert outcome.value("/data/hh_address") == "衡阳县西渡镇洪罗庙社区第二村民小组"
    assert outcome.value("/data/hh_a3_label") == "边缘易致贫户"
    assert outcome.value("/data/hh_household_size") == "2"
    note = outcome.node("/data/known_facts")["label"]
    for fact in ("李四", "430421********0221", "第二村民小组", "边缘易致贫户", "2 人"):
        assert fact in note
    assert outcome.value("/data/household") == HH2

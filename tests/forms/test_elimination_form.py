"""The risk-elimination form (风险消除, stage three: 附件4 + 附件5).

``xlsforms/elimination.xlsx`` is built with ``build_xform(validate=True)`` (pyxform,
then JavaRosa through ODK Validate); the XForm is checked with XPath, and filled in ODK Web Forms'
engine (``tests.support.engine``) with a two-household entity list ``households.csv``, the yearly
``figures.csv`` (2021: line 6500, floor 5000, notice 7 days) and ``areas.csv``. The engine
evaluates the form's own expressions: the rules are not re-implemented here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from server.domain.fields import BY_NAME, Kind
from server.forms.build import BuiltForm
from tests.support.engine import Outcome
from tests.support.households import HH1, HH2
from tests.support.xform import (
    FIGURES_HEADER,
    HOUSEHOLDS_HEADER,
    JR,
    NS,
    TEAM_ROLE,
    areas_csv,
    assert_csv_attachments,
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

FORM = Path(__file__).resolve().parents[2] / "xlsforms" / "elimination.xlsx"
# The module-scoped form and engine runs are built once: one parallel worker runs the module.
pytestmark = pytest.mark.xdist_group("form_elimination")

# Household 1: A33 = 30000 + 3000 + 0 + 2000 - 1000 = 34000, A34 = 8500 (4 people),
# A37 = 34000 + 0 - 500 = 33500, A38 = 8375. Household 2: no labour capacity ("02").
ENTITY = {
    HH1: {"a28_wages": "30000", "a29_business_income": "3000", "a30_property_income": "0",
          "a31_transfer_income": "2000", "a32_business_expenses": "1000",
          "a35_insurance_claims": "0", "a36_compliant_out_of_pocket": "500.5",
          "household_size": "4"},
    HH2: {"a28_wages": "0", "a29_business_income": "0", "a30_property_income": "0",
          "a31_transfer_income": "16000", "a32_business_expenses": "0",
          "a35_insurance_claims": "0", "a36_compliant_out_of_pocket": "0",
          "household_size": "2"},
}
HOUSEHOLDS = csv_attachment(
    HOUSEHOLDS_HEADER,
    f"{HH1},张三 第一村民小组,3,430421,430421100,430421100201,430421100201001,张三,"
    "430421********0113,4,13812345678,02,01,01,30000,3000,0,2000,1000,0,500.5,王五,13900000000,01",
    f"{HH2},李四 第二村民小组,1,430421,430421100,430421100201,430421100201002,李四,"
    "430421********0221,2,13812345679,02,02,02,0,0,0,16000,0,0,0,王五,13900000000,02",
)
ATTACHMENTS = {"households.csv": HOUSEHOLDS,
               "figures.csv": csv_attachment(FIGURES_HEADER, "2021,6500,5000,7,2021"),
               "areas.csv": areas_csv("430421100201", groups=2)}
MEDIA = {name: b"\x89PNG\r\n\x1a\n test signature" for name in ("head.png", "t1.png", "t2.png")}

INCOME = {name: f"/data/income/{name}" for name in (
    "a28_wages", "a29_business_income", "a30_property_income", "a31_transfer_income",
    "a32_business_expenses", "a35_insurance_claims", "a36_compliant_out_of_pocket")}
STANDARDS = ["std_measures_carried_out", "std_basic_needs_secured", "std_income_stable",
             "std_rigid_expenses_resolved"]
A53 = "/data/elimination/a53_elimination_method"
A54 = "/data/elimination/a54_elimination_date"


def answers(household: str = HH1, *, income: dict[str, str] | None = None,
            standards: dict[str, str] | None = None, team: int = 2,
            first: list[tuple[str, object]] | None = None) -> list[tuple[str, object]]:
    """A complete visit: the household, the visit date, updates, the standards, signatures."""
    filled: list[tuple[str, object]] = [*(first or []), ("/data/household", household),
                                        ("/data/visit_date", "2021-05-12")]
    filled += [(INCOME[name], value) for name, value in (income or {}).items()]
    filled += [(f"/data/standards/{name}", (standards or {}).get(name, "01"))
               for name in STANDARDS]
    filled += [(A53, "01"), ("/data/confirmation/sig_head", "head.png"), ("/data/team_count", team)]
    for n in range(1, team + 1):
        filled += [(f"/data/team[{n}]/team_member_name", f"核实员{n}"),
                   (f"/data/team[{n}]/team_member_role", f"0{n}"),
                   (f"/data/team[{n}]/team_signature", f"t{n}.png")]
    return filled


CASES: dict[str, list[tuple[str, object]]] = {
    "prefill_only": [("/data/household", HH1)],
    "prefill_switch": [("/data/household", HH1), (INCOME["a28_wages"], "123"),
                       ("/data/household", HH2)],
    "valid": answers(),
    "between_floor_and_line": answers(income={"a28_wages": "20000"}),  # A34 = 6000
    "below_floor": answers(income={"a28_wages": "10000"}),  # A34 = 3500
    "standard_no": answers(standards={"std_income_stable": "02"}),
    "no_labour_capacity": answers(HH2, first=[]) + [("/data/not_for_now", "OK")],
    "one_team_member": answers(team=1),
    "negative_income": answers(income={"a29_business_income": "-1"}),
    "no_figures_for_the_year": [  # figures.csv has 2021 only
        (path, "2020-12-01" if path == "/data/visit_date" else value) for path, value in answers()
    ],
}


@pytest.fixture(scope="module")
def outcomes(form: BuiltForm) -> dict[str, Outcome]:
    return fill_cases(form, ATTACHMENTS, CASES, MEDIA)


def message(doc: etree._Element, path: str) -> str:
    """The constraint message, static or (with outputs) from the itext."""
    msg = bind(doc, path).get(f"{JR}constraintMsg")
    match = re.fullmatch(r"jr:itext\('(.+)'\)", msg)
    if not match:
        return msg
    text = one(doc, f"//x:itext/x:translation/x:text[@id='{match.group(1)}']/x:value")
    return "".join(text.itertext()) + " " + " ".join(
        squash(o.get("value")) for o in text.iter(f"{{{NS['x']}}}output"))


# --- the build -----------------------------------------------------------------------------


def test_form_builds_and_loads_in_javarosa_without_warnings(form: BuiltForm) -> None:
    """Issue 4: the form builds with pyxform and loads in JavaRosa (ODK Validate), no warnings."""
    assert form.warnings == ()
    assert form.form_id == "elimination"
    assert form.title == "防止返贫监测对象风险消除评估表"


def test_settings_have_no_version_column() -> None:
    """xlsforms/README: the server versions a form by its content; no version column."""
    assert settings_header(FORM) == ["form_id", "form_title", "instance_name"]


def test_attachments_are_the_entity_list_the_figures_and_the_areas(
    form: BuiltForm, doc: etree._Element
) -> None:
    """SPEC §2/§3: households from the helper's list; line and floor from a yearly CSV."""
    assert_csv_attachments(form, doc, "areas", "figures", "households")
    itemset = one(doc, "//x:select1[@ref='/data/household']/x:itemset")
    assert itemset.get("nodeset") == "instance('households')/root/item"


@pytest.mark.parametrize("figure", ["monitoring_line", "elimination_floor"])
def test_line_and_floor_are_looked_up_for_the_visit_year(doc: etree._Element, figure: str) -> None:
    """SPEC §3: the line and floor are per year, looked up with the visit date's year."""
    assert squash(bind(doc, f"/data/{figure}").get("calculate")) == (
        f"instance('figures')/root/item[year = /data/visit_year ]/{figure}")
    assert squash(bind(doc, "/data/visit_year").get("calculate")) == (
        "format-date( /data/visit_date , '%Y')")


def test_no_monitoring_figure_is_hard_coded(form: BuiltForm) -> None:
    """SPEC §3: never a constant 6500 or 5000 in the form."""
    assert "6500" not in form.xml.decode() and "5000" not in form.xml.decode()


@pytest.mark.parametrize("field", [*INCOME, "household_size"])
def test_income_items_and_size_are_prefilled_from_the_entity_list_when_picked(
    doc: etree._Element, field: str
) -> None:
    """SPEC §2: prefill what is known — a setvalue on the household's value change (editable)."""
    path = INCOME.get(field, f"/data/{field}")
    setvalue = one(doc, f"//x:select1[@ref='/data/household']/x:setvalue[@ref='{path}']")
    assert setvalue.get("event") == "xforms-value-changed"
    assert squash(setvalue.get("value")) == (
        f"instance('households')/root/item[name = /data/household ]/{field}")
    assert bind(doc, path).get("calculate") is None  # a default, not a computed value
    assert bind(doc, path).get("readonly") is None


@pytest.mark.parametrize("field", list(INCOME))
def test_money_is_a_required_decimal_not_below_zero(doc: etree._Element, field: str) -> None:
    """SPEC §3 / shared brief: money fields decimal, ≥ 0, with a Chinese message."""
    b = bind(doc, INCOME[field])
    assert (b.get("type"), b.get("required")) == ("decimal", "true()")
    assert b.get("constraint") == ". >= 0"
    assert "不能为负数" in message(doc, INCOME[field])


@pytest.mark.parametrize(("field", "expression"), [
    ("a33_net_income", "/data/income/a28_wages + /data/income/a29_business_income + "
     "/data/income/a30_property_income + /data/income/a31_transfer_income - "
     "/data/income/a32_business_expenses"),
    ("a34_net_income_per_capita", "/data/income/a33_net_income div /data/household_size"),
    ("a37_income_reference", "/data/income/a33_net_income + /data/income/a35_insurance_claims - "
     "/data/income/a36_compliant_out_of_pocket"),
    ("a38_income_reference_per_capita", "/data/income/a37_income_reference div "
     "/data/household_size"),
])
def test_derived_income_is_computed_unrounded_and_shown_rounded(
    doc: etree._Element, field: str, expression: str
) -> None:
    """SPEC §3: A33 = A28+A29+A30+A31−A32, A34 = A33/size, A37 = A33+A35−A36, A38 = A37/size."""
    assert squash(bind(doc, f"/data/income/{field}").get("calculate")) == expression
    shown = squash(bind(doc, f"/data/income/shown_{field[:3]}").get("calculate"))
    assert f"round( /data/income/{field} , 2)" in shown


def test_the_floor_blocks_a53_with_a_message_naming_floor_and_rule(doc: etree._Element) -> None:
    """SPEC §3/§6: A34 below the floor may not be marked 风险消除 (a hard rule)."""
    constraint = squash(bind(doc, A53).get("constraint"))
    assert constraint == ("/data/elimination_floor != '' and "
                          "/data/income/a34_net_income_per_capita >= /data/elimination_floor")
    text = message(doc, A53)
    assert "不得标注" in text and "风险消除底线" in text
    assert "/data/elimination_floor" in text and "/data/visit_year" in text


def test_the_four_standards_must_all_be_yes(doc: etree._Element) -> None:
    """SPEC §6: standards, all required — each 是否 item is constrained to 是 (01)."""
    for name in STANDARDS:
        b = bind(doc, f"/data/standards/{name}")
        assert (b.get("required"), b.get("constraint")) == ("true()", ". = '01'")
        assert "四项风险消除标准须全部为" in message(doc, f"/data/standards/{name}")


def test_no_labour_capacity_is_not_for_now(doc: etree._Element) -> None:
    """SPEC §6 暂不: no labour capacity → not marked 风险消除 (a required, failing acknowledge)."""
    b = bind(doc, "/data/not_for_now")
    assert squash(b.get("relevant")) == "/data/hh_labour_capacity = '02'"
    assert squash(b.get("constraint")) == "/data/hh_labour_capacity != '02'"
    assert b.get("required") == "true()"
    assert "暂不标注" in message(doc, "/data/not_for_now")


def test_a54_starts_as_the_visit_date(doc: etree._Element) -> None:
    """A54 is the county approval date: the phone fills the visit date, the hint says so."""
    setvalue = one(doc, f"//x:input[@ref='/data/visit_date']/x:setvalue[@ref='{A54}']")
    assert (setvalue.get("event"), squash(setvalue.get("value"))) == (
        "xforms-value-changed", "/data/visit_date")
    assert "县级审定" in one(doc, f"//x:input[@ref='{A54}']/x:hint").text


def test_the_team_is_at_least_two_with_role_and_signature(doc: etree._Element) -> None:
    """SPEC §6: a verification team of ≥ 2 (乡镇干部, 驻村/包村干部, 村干部) signs."""
    repeat = one(doc, "//x:repeat[@nodeset='/data/team']")
    assert squash(repeat.get(f"{JR}count")) == "/data/team_count"
    assert squash(bind(doc, "/data/team_count").get("constraint")) == ". >= 2 and . <= 10"
    for path in ("/data/team/team_signature", "/data/confirmation/sig_head"):
        assert bind(doc, path).get("type") == "binary"
        assert bind(doc, path).get("required") == "true()"
        assert one(doc, f"//x:upload[@ref='{path}']").get("appearance") == "signature"
    assert list_items(doc, "team_role") == TEAM_ROLE


def test_the_household_confirms_with_the_source_words(doc: etree._Element) -> None:
    """附件5 农户签字确认结果, word for word, above the head's signature."""
    label = one(doc, "//x:input[@ref='/data/confirmation/confirmation_text']/x:label").text
    assert label == "经过自身努力和各方帮扶，本户已达到风险消除标准，现自愿退出监测对象。"


def test_every_code_list_is_the_code_table(doc: etree._Element) -> None:
    """SPEC §2: code tables of 附件6 as choices, codes and labels exactly as codes.TABLES."""
    lists = secondary_instances(doc) - {"households", "areas", "figures"}
    assert lists == {"yes_no", "a3_monitoring_type", "a53_elimination_method", "team_role"}
    assert_lists_are_code_tables(doc, lists - {"team_role"})


def test_every_registered_field_has_the_registry_kind(doc: etree._Element) -> None:
    """DESIGN (one registry of fields): A-fields use the registry's names and kinds."""
    kinds = {"select1": Kind.SELECT_ONE, "select": Kind.SELECT_MULTIPLE, "upload": Kind.IMAGE}
    types = {"string": Kind.TEXT, "date": Kind.DATE, "decimal": Kind.MONEY, "int": Kind.INTEGER}
    seen = set()
    for field, b in registered_binds(doc):
        seen.add(field.name)
        if b.get("calculate"):
            assert field.derived and field.kind is Kind.MONEY, field.name
            continue
        assert kinds.get(ref_tag(doc, b.get("nodeset")), types.get(b.get("type"))) is field.kind
    assert {f.name for f in BY_NAME.values() if f.stage == 3} <= seen
    assert {f"a{n}_{s}" for n, s in [(33, "net_income"), (34, "net_income_per_capita")]} <= seen


# --- in the engine -------------------------------------------------------------------------


def test_picking_a_household_prefills_its_entity_values(outcomes: dict[str, Outcome]) -> None:
    """SPEC §2: the engine shows the entity's A28… and household size as starting values."""
    outcome = outcomes["prefill_only"]
    assert outcome.exit_code == 0
    for field, value in ENTITY[HH1].items():
        path = INCOME.get(field, f"/data/{field}")
        assert Decimal(outcome.value(path)) == Decimal(value), field
    assert outcome.value("/data/hh_head_name") == "张三"
    assert outcome.value("/data/hh_address") == "衡阳县西渡镇洪罗庙社区第一村民小组"


def test_picking_another_household_replaces_the_prefilled_values(
    outcomes: dict[str, Outcome],
) -> None:
    """SPEC §2: the prefill follows the household picked (a value typed for another is gone)."""
    outcome = outcomes["prefill_switch"]
    for field, value in ENTITY[HH2].items():
        path = INCOME.get(field, f"/data/{field}")
        assert Decimal(outcome.value(path)) == Decimal(value), field


def test_a_complete_valid_visit_computes_the_income(outcomes: dict[str, Outcome]) -> None:
    """SPEC §3: A33..A38 from the (prefilled) items; income period = 12 months before the visit."""
    outcome = outcomes["valid"]
    assert_valid(outcome)
    calc = outcome.report["calculated"]
    assert Decimal(calc["/data/income/a33_net_income"]) == Decimal("34000")
    assert Decimal(calc["/data/income/a34_net_income_per_capita"]) == Decimal("8500")
    assert Decimal(calc["/data/income/a37_income_reference"]) == Decimal("33499.5")
    assert Decimal(calc["/data/income/a38_income_reference_per_capita"]) == Decimal("8374.875")
    assert calc["/data/income/shown_a38"] == "8374.88"
    assert (calc["/data/monitoring_line"], calc["/data/elimination_floor"]) == ("6500", "5000")
    assert calc["/data/income_period_start"] == "2020-05-01"
    assert calc["/data/income_period_end"] == "2021-04-30"
    assert outcome.value(A54) == "2021-05-12"
    assert outcome.value("/data/meta/instanceName") == "风险消除-张三-2021-05-12"
    for note in ("/data/income/below_floor", "/data/income/below_line", "/data/figures_missing",
                 "/data/not_for_now"):
        assert outcome.node(note)["relevant"] is False, note


def test_below_the_line_above_the_floor_warns_but_is_valid(outcomes: dict[str, Outcome]) -> None:
    """SPEC §6: warn while below the line (6000 < 6500), block only below the floor."""
    outcome = outcomes["between_floor_and_line"]
    assert_valid(outcome)
    assert Decimal(outcome.value("/data/income/a34_net_income_per_capita")) == Decimal("6000")
    assert outcome.node("/data/income/below_line")["relevant"] is True
    assert outcome.node("/data/income/below_floor")["relevant"] is False


def test_below_the_floor_is_blocked_on_a53(outcomes: dict[str, Outcome]) -> None:
    """SPEC §3/§6: A34 = 3500 < floor 5000 of 2021 → 不得标注风险消除 (hard block)."""
    outcome = outcomes["below_floor"]
    assert outcome.violations() == {A53: "constraint"}
    assert outcome.node("/data/income/below_floor")["relevant"] is True
    text = next(v["message"] for v in outcome.report["violations"] if v["path"] == A53)
    assert "3500" in text and "5000" in text and "2021" in text


def test_missing_figures_for_the_visit_year_block_a53(outcomes: dict[str, Outcome]) -> None:
    """SPEC §3: the floor is yearly data; without the year's floor the form cannot pass."""
    outcome = outcomes["no_figures_for_the_year"]
    assert outcome.violations() == {A53: "constraint"}
    assert outcome.node("/data/figures_missing")["relevant"] is True


def test_a_standard_answered_no_is_a_violation(outcomes: dict[str, Outcome]) -> None:
    """SPEC §6: all four standards are required to propose elimination."""
    assert outcomes["standard_no"].violations() == {"/data/standards/std_income_stable":
                                                    "constraint"}


def test_no_labour_capacity_blocks_the_form(outcomes: dict[str, Outcome]) -> None:
    """SPEC §6 暂不: labour_capacity 02 → not marked 风险消除, whatever else is filled."""
    outcome = outcomes["no_labour_capacity"]
    assert outcome.exit_code == 0, outcome.report.get("answer_errors")
    assert outcome.violations() == {"/data/not_for_now": "constraint"}
    assert outcome.node("/data/not_for_now")["relevant"] is True


def test_one_team_member_is_not_enough(outcomes: dict[str, Outcome]) -> None:
    """SPEC §6: the verification team has at least two members."""
    assert outcomes["one_team_member"].violations() == {"/data/team_count": "constraint"}


def test_negative_income_is_a_violation(outcomes: dict[str, Outcome]) -> None:
    """SPEC §3: money ≥ 0."""
    assert outcomes["negative_income"].violations() == {INCOME["a29_business_income"]:
                                                        "constraint"}

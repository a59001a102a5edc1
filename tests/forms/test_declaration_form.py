"""The self-declaration form (农户自主申报, SPEC §2.4 and §6 step 1, with 附件1).

``xlsforms/declaration.xlsx`` is built with ``build_xform(validate=True)`` (pyxform,
then JavaRosa through ODK Validate); the XForm is checked with XPath, and filled in ODK Web Forms'
engine (``tests.support.engine``) with an ``areas.csv``: the ID number's GB 11643 check and the
other rules are the form's own expressions, evaluated by the engine, never re-implemented here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from server.domain.codes import NUMBERED_RISK_MARKS
from server.domain.fields import BY_NAME, Kind
from server.forms.build import BuiltForm
from tests.support.engine import Outcome
from tests.support.households import HEAD_ID, id_number
from tests.support.xform import (
    ADDRESS_LEVELS,
    JR,
    NS,
    areas_csv,
    assert_lists_are_code_tables,
    assert_valid,
    bind,
    field_binds,
    fill_cases,
    one,
    ref_element,
    secondary_instances,
    settings_header,
    squash,
)

FORM = Path(__file__).resolve().parents[2] / "xlsforms" / "declaration.xlsx"
# The module-scoped form and engine runs are built once: one parallel worker runs the module.
pytestmark = pytest.mark.xdist_group("form_declaration")

ATTACHMENTS = {"areas.csv": areas_csv("430421100201")}
MEDIA = {"sig.png": b"\x89PNG\r\n\x1a\n signature", "thumb.jpg": b"\xff\xd8\xff thumbprint"}

BAD_CHECK = HEAD_ID[:17] + ("1" if HEAD_ID[17] != "1" else "2")
ID_PATH = "/data/applicant/decl_head_id_number"

# 附件1, word for word: the commitment and authorisation.
COMMITMENTS = [
    "1.申报的家庭成员信息和提供的相关证件及证明材料（户口簿、身份证、学生在校证明、残疾证、医疗诊断证明、"
    "收入证明等），保证真实无误，如有任何不真实的地方，愿承担一切法律责任。",
    "2.愿意接受并主动配合相关部门组织的入户核实调查、民主评议和公开公示、接受群众监督等规范管理。",
    "3.授权相关部门依法核实家庭存款、车辆、住房、工商注册、财政供养等相关信息。",
]


def declaration(*, head_id: str = HEAD_ID, risks: str = "2 6", on_behalf: str = "02",
                phone: str = "13812345678", size: str = "4") -> list[tuple[str, object]]:
    return [
        ("/data/decl_date", "2021-05-12"), ("/data/decl_channel", "01"),
        ("/data/decl_on_behalf", on_behalf),
        ("/data/applicant/decl_head_name", "张三"), (ID_PATH, head_id),
        ("/data/address/addr_county", "430421"), ("/data/address/addr_township", "430421100"),
        ("/data/address/addr_village", "430421100201"),
        ("/data/address/addr_group", "430421100201001"),
        ("/data/phone", phone), ("/data/decl_household_size", size),
        ("/data/decl_risks", risks), ("/data/decl_description", "户主患病住院，务工收入中断"),
    ]


SIGNED = [("/data/commitment/applicant_can_sign", "01"),
          ("/data/commitment/sig_applicant", "sig.png")]
THUMB = [("/data/commitment/applicant_can_sign", "02"),
         ("/data/commitment/photo_thumbprint", "thumb.jpg")]
DECLARANT = [("/data/declarant/decl_declarant_name", "王五"),
             ("/data/declarant/decl_declarant_phone", "0734-1234567"),
             ("/data/declarant/decl_declarant_relation", "邻居")]

CASES: dict[str, list[tuple[str, object]]] = {
    "self_signed": declaration() + SIGNED,
    "self_thumbprint": declaration() + THUMB,
    "self_unsigned": declaration(),
    "on_behalf": declaration(on_behalf="01") + DECLARANT,
    "on_behalf_without_declarant": declaration(on_behalf="01"),
    "bad_check_character": declaration(head_id=BAD_CHECK) + SIGNED,
    "lower_case_x": declaration(head_id="11010519491231002x") + SIGNED,
    "disability_card": declaration(head_id="11010519491231002X74") + SIGNED,
    "disability_card_bad_check": declaration(head_id="11010519491231002174") + SIGNED,
    "february_30": declaration(head_id=id_number("430421", "19800230", 11)) + SIGNED,
    "leap_day": declaration(head_id=id_number("430421", "20000229", 11)) + SIGNED,
    "no_leap_day_1900": declaration(head_id=id_number("430421", "19000229", 11)) + SIGNED,
    "born_in_the_future": declaration(head_id=id_number("430421", "20991231", 11)) + SIGNED,
    "fifteen_digits": declaration(head_id="430421800101011") + SIGNED,
    "other_without_text": declaration(risks="9 14") + SIGNED,
    "other_with_text": declaration(risks="9 14") + [("/data/decl_risk_other_text", "房屋失火")]
    + SIGNED,
    "bad_phone": declaration(phone="1380734123") + SIGNED,
    "size_zero": declaration(size="0") + SIGNED,
}


@pytest.fixture(scope="module")
def outcomes(form: BuiltForm) -> dict[str, Outcome]:
    return fill_cases(form, ATTACHMENTS, CASES, MEDIA)


# --- the build -----------------------------------------------------------------------------


def test_form_builds_and_loads_in_javarosa_without_warnings(form: BuiltForm) -> None:
    """Issue 4: the form builds with pyxform and loads in JavaRosa (ODK Validate), no warnings."""
    assert form.warnings == ()
    assert form.form_id == "declaration"
    assert form.title == "防止返贫监测农户自主申报"
    assert form.media == ("areas.csv",)


def test_settings_have_no_version_column() -> None:
    """xlsforms/README: the server versions a form by its content; no version column."""
    assert settings_header(FORM) == ["form_id", "form_title", "instance_name"]


@pytest.mark.parametrize(("field", "level", "parent"), ADDRESS_LEVELS)
def test_address_cascades_from_the_area_list(
    doc: etree._Element, field: str, level: str, parent: str | None
) -> None:
    """SPEC §2.4 "where": the address 县/乡/村/组 from the helper's areas.csv, cascading."""
    itemset = one(doc, f"//x:select1[@ref='/data/address/{field}']/x:itemset")
    nodeset = squash(itemset.get("nodeset"))
    assert nodeset.startswith("instance('areas')/root/item[")
    assert f"level='{level}'" in nodeset
    assert (parent is None and "parent" not in nodeset) or f"parent= {parent}" in nodeset
    assert bind(doc, f"/data/address/{field}").get("required") == "true()"


def test_the_id_number_has_the_gb_11643_check_as_xpath(doc: etree._Element) -> None:
    """SPEC §3: 17 digits + check character, weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2."""
    constraint = squash(bind(doc, ID_PATH).get("constraint"))
    assert constraint.startswith("regex(., '^[0-9]{17}[0-9Xx]([1-7][1-4])?$')")
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for i, weight in enumerate(weights):
        assert f"int(substr(., {i}, {i + 1})) * {weight}" in constraint
    assert ") mod 11 = 1" in constraint
    assert "<= today()" in constraint
    assert "GB 11643" in bind(doc, ID_PATH).get(f"{JR}constraintMsg")


def test_the_risks_are_2_to_14_of_attachment_1(doc: etree._Element) -> None:
    """SPEC §2.4 / 附件1: 我家因__存在返贫致贫风险 (numbers ②–⑭; ① is computed after the visit)."""
    itemset = one(doc, "//x:select[@ref='/data/decl_risks']/x:itemset")
    assert squash(itemset.get("nodeset")) == "instance('numbered_risks')/root/item[name != '1']"
    other = bind(doc, "/data/decl_risk_other_text")
    assert squash(other.get("relevant")) == "selected( /data/decl_risks , '14')"
    assert other.get("required") == "true()"


def test_declarant_details_are_asked_only_on_behalf(doc: etree._Element) -> None:
    """SPEC §2.4: a household or anyone on its behalf declares — then with name and phone."""
    group = bind(doc, "/data/declarant")
    assert squash(group.get("relevant")) == "/data/decl_on_behalf = '01'"
    for name in ("decl_declarant_name", "decl_declarant_phone", "decl_declarant_relation"):
        assert bind(doc, f"/data/declarant/{name}").get("required") == "true()"
    assert squash(bind(doc, "/data/commitment").get("relevant")) == "/data/decl_on_behalf = '02'"


def test_the_commitment_is_the_text_of_attachment_1(doc: etree._Element) -> None:
    """SPEC §2 / §6 step 1: the household signs 附件1's commitment and authorisation."""
    for n, text in enumerate(COMMITMENTS, start=1):
        label = one(doc, f"//x:input[@ref='/data/commitment/commitment_{n}']/x:label").text
        assert label == text
    application = "".join(
        one(doc, "//x:input[@ref='/data/commitment/application_text']/x:label").itertext())
    assert "存在返贫致贫风险，特申请纳入防止返贫监测对象。" in application
    for path in ("/data/commitment/sig_applicant", "/data/commitment/photo_thumbprint"):
        assert bind(doc, path).get("type") == "binary"
        assert bind(doc, path).get("required") == "true()"
    assert one(doc, "//x:upload[@ref='/data/commitment/sig_applicant']").get(
        "appearance") == "signature"


def test_every_code_list_is_the_code_table(doc: etree._Element) -> None:
    """SPEC §2: the choices are codes.TABLES, codes and labels exactly (modulo pyxform's quotes)."""
    lists = secondary_instances(doc) - {"areas"}
    assert lists == {"declaration_channel", "yes_no", "numbered_risks"}
    assert_lists_are_code_tables(doc, lists)


def test_every_registered_field_has_the_registry_kind(doc: etree._Element) -> None:
    """DESIGN (one registry of fields): the declaration's fields are registered, kinds match."""
    kinds = {"select1": Kind.SELECT_ONE, "select": Kind.SELECT_MULTIPLE, "upload": Kind.IMAGE}
    types = {"date": Kind.DATE, "int": Kind.INTEGER}
    texts = {Kind.TEXT, Kind.PHONE, Kind.ID_NUMBER}
    seen = set()
    for name, b in field_binds(doc):
        assert not re.match(r"a\d", name), name
        if name.startswith("decl_") and not b.get("calculate"):
            assert name in BY_NAME, name
        if name not in BY_NAME:
            continue
        seen.add(name)
        field = BY_NAME[name]
        control = ref_element(doc, b.get("nodeset"))
        kind = kinds.get(etree.QName(control).localname, types.get(b.get("type")))
        if control.xpath("x:itemset[starts-with(@nodeset, \"instance('areas')\")]",
                         namespaces=NS):
            kind = None  # the registry keeps an area picked from areas.csv as its code (text)
        assert kind is field.kind or (kind is None and field.kind in texts), name
    assert {f.name for f in BY_NAME.values() if f.name.startswith("decl_")} <= seen
    assert {"addr_county", "addr_group", "phone", "sig_applicant", "photo_thumbprint"} <= seen


# --- in the engine -------------------------------------------------------------------------


def test_a_self_declaration_with_signature_is_valid(outcomes: dict[str, Outcome]) -> None:
    """SPEC §2.4: who, where, which risk, contact, and the signed 附件1."""
    outcome = outcomes["self_signed"]
    assert_valid(outcome)
    assert outcome.value("/data/decl_risk_marks") == "②⑥"
    assert outcome.value("/data/decl_address_text") == "衡阳县西渡镇洪罗庙社区第一村民小组"
    application = outcome.node("/data/commitment/application_text")["label"]
    assert f"姓名：张三，身份证号：{HEAD_ID}" in application
    assert "家庭4口人。我家因②⑥存在返贫致贫风险" in application
    assert outcome.node("/data/declarant/decl_declarant_name")["relevant"] is False
    assert outcome.value("/data/meta/instanceName") == "自主申报-张三-2021-05-12"


def test_a_thumbprint_photo_replaces_the_signature(outcomes: dict[str, Outcome]) -> None:
    """附件1: 申请人签字（按手印） — a thumbprint photo for someone who cannot sign."""
    outcome = outcomes["self_thumbprint"]
    assert_valid(outcome)
    assert outcome.node("/data/commitment/sig_applicant")["relevant"] is False


def test_a_self_declaration_needs_the_signature_choice(outcomes: dict[str, Outcome]) -> None:
    """SPEC §2: the signed 附件1 is the precondition of the verification visit."""
    assert outcomes["self_unsigned"].violations() == {
        "/data/commitment/applicant_can_sign": "required"}


def test_on_behalf_needs_the_declarant_and_no_signature(outcomes: dict[str, Outcome]) -> None:
    """SPEC §2.4: anyone may declare on the household's behalf, giving name, phone, relation."""
    assert_valid(outcomes["on_behalf"])
    assert outcomes["on_behalf"].node("/data/behalf_note")["relevant"] is True
    assert outcomes["on_behalf_without_declarant"].violations() == {
        "/data/declarant/decl_declarant_name": "required",
        "/data/declarant/decl_declarant_phone": "required",
        "/data/declarant/decl_declarant_relation": "required",
    }


@pytest.mark.parametrize("case", ["bad_check_character", "disability_card_bad_check",
                                  "february_30", "no_leap_day_1900", "born_in_the_future",
                                  "fifteen_digits"])
def test_a_wrong_id_number_is_refused(outcomes: dict[str, Outcome], case: str) -> None:
    """SPEC §3: check character (GB 11643), a real birth date not in the future, 18/20 digits."""
    assert outcomes[case].violations() == {ID_PATH: "constraint"}


@pytest.mark.parametrize("case", ["lower_case_x", "disability_card", "leap_day"])
def test_a_right_id_number_is_accepted(outcomes: dict[str, Outcome], case: str) -> None:
    """SPEC §3: lower-case x (the server upper-cases), 20-digit disability card, 29 Feb 2000."""
    assert_valid(outcomes[case])


def test_other_risk_requires_its_text(outcomes: dict[str, Outcome]) -> None:
    """附件1: 填写⑭“其他”需写明具体原因."""
    assert outcomes["other_without_text"].violations() == {"/data/decl_risk_other_text":
                                                           "required"}
    outcome = outcomes["other_with_text"]
    assert_valid(outcome)
    assert outcome.value("/data/decl_risk_marks") == "⑨⑭（房屋失火）"


def test_risk_one_is_not_offered(outcomes: dict[str, Outcome]) -> None:
    """SPEC §4: ① (A34 below the line) is computed after the visit, not declared."""
    options = outcomes["self_signed"].options("/data/decl_risks")
    assert options == [str(n) for n in range(2, 15)]
    assert set(NUMBERED_RISK_MARKS) - set(options) == {"1"}


def test_bad_phone_and_empty_household_are_refused(outcomes: dict[str, Outcome]) -> None:
    """SPEC §2: mobile 11 digits or landline with area code; household size ≥ 1."""
    assert outcomes["bad_phone"].violations() == {"/data/phone": "constraint"}
    assert outcomes["size_zero"].violations() == {"/data/decl_household_size": "constraint"}

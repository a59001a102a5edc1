"""The household form (附件2 防止返贫监测对象信息采集表 stage one + 附件1 申请及承诺授权书).

Three layers, each on the form as built from ``xlsforms/household.xlsx``:

1. the build: pyxform converts it and JavaRosa (ODK Collect's engine, through ODK Validate) loads
   it (``build_xform(..., validate=True)``);
2. the XForm: XPath assertions on the constraints, calculations, attachments and the entity
   declaration; the choices equal ``server.domain.codes`` and the fields the registry
   ``server.domain.fields``;
3. a real XForm engine (ODK Web Forms' ``@getodk/xforms-engine``, ``tests.support.engine``) fills
   a valid household and invalid variants, so the form's own expressions decide: nothing of the
   rules is re-implemented here. All fills run in one batch (module fixture ``filled``).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from lxml import etree

from server.domain.fields import BY_NAME, FIELDS, Kind, fields_of_stage
from server.forms.build import BuiltForm, build_xform
from tests.support.engine import Job, Outcome, fill_many
from tests.support.households import (
    HEAD_ID,
    NO,
    YES,
    changed_answers,
    id_number,
    member_answers,
    valid_household,
)
from tests.support.xform import (
    ADDRESS_LEVELS,
    FIGURES_HEADER,
    JR,
    NS,
    TEAM_ROLE,
    areas_csv,
    assert_csv_attachments,
    assert_lists_are_code_tables,
    bind,
    csv_attachment,
    field_binds,
    list_items,
    one,
    relabelled,
)

FORM = Path(__file__).resolve().parents[2] / "xlsforms" / "household.xlsx"
# The module-scoped form and engine runs are built once: one parallel worker runs the module.
pytestmark = pytest.mark.xdist_group("form_household")

VILLAGE = "430421101001"
ATTACHMENTS = {
    "areas.csv": areas_csv(VILLAGE),
    # Two years with different lines: the flag "below the line" must follow the visit year.
    "figures.csv": csv_attachment(FIGURES_HEADER, "2021,6500,5000,7,2021",
                                  "2022,6900,5000,7,2022"),
    "households.csv": csv_attachment("name,label,__version,addr_county,head_name",
                                     "hh-0001,王五 洪罗庙社区第一村民小组,3,430421,王五"),
}

FATHER = id_number("430421", "19500303", 51)  # 71
WITH_X = next(i for s in range(1000) if (i := id_number("110105", "19491231", s)).endswith("X"))


# ---------------------------------------------------------------------------------- fixtures


def flat(text: str | None) -> str:
    """An XPath expression with pyxform's spacing around ${} references removed."""
    out = re.sub(r"\s+", " ", text or "").strip()
    for spaced, tight in (("( ", "("), (" )", ")"), (" ,", ","), ("[ ", "["), (" ]", "]"),
                          (" [", "[")):
        out = out.replace(spaced, tight)
    return out


def variant(changes: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> dict:
    """The valid household with answers changed in place (new ones appended), some dropped."""
    return changed_answers(valid_household(VILLAGE), changes, drop)


# Income with A34 = 20100 / 3 = 6700: not below 2021's line (6500), below 2022's (6900).
BETWEEN_LINES = {"/data/a28_wages": "20100", "/data/a29_business_income": "0",
                 "/data/a31_transfer_income": "0", "/data/a32_business_expenses": "0",
                 "/data/a35_insurance_claims": "0", "/data/a36_compliant_out_of_pocket": "0",
                 "/data/a3_monitoring_type": "02"}

CASES: dict[str, dict[str, str]] = {
    "valid": valid_household(VILLAGE),
    "resurvey": variant({"/data/resurvey": YES, "/data/household": "hh-0001"}),
    "bad_check_character": variant(
        {"/data/members[1]/a7_id_number": HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")}),
    "two_heads": variant({"/data/members[2]/a8_relation": "01"}),
    "no_head": variant({"/data/members[1]/a8_relation": "02"}),
    "same_id_twice": variant({"/data/members[2]/a7_id_number": HEAD_ID}),
    "disability_card_is_the_same_person": variant(
        {"/data/members[2]/a7_id_number": HEAD_ID + "41"}),
    "a16_13": variant({"/data/members[1]/a16_work_months": "13"}),
    "a16_3_3": variant({"/data/members[1]/a16_work_months": "3.3"}),
    "negative_income": variant({"/data/a28_wages": "-1"}),
    "child_a14_ordinary": variant({"/data/members[3]/a14_labour_skill": "01"}),
    "child_a14_skilled": variant({"/data/members[3]/a14_labour_skill": "02"}),
    "adult_a14_none": variant({"/data/members[2]/a14_labour_skill": "04"}),
    "elder_a14_ordinary": variant(member_answers(4, "张父", FATHER, "11", "01")),
    "elder_a14_weak": variant(member_answers(4, "张父", FATHER, "11", "05")),
    "a1_yes_without_site": variant({"/data/a1_resettlement_site": YES}),
    "a1_yes_with_site": variant({"/data/a1_resettlement_site": YES,
                                 "/data/a2_site_name": "西渡镇幸福家园安置区"}),
    "a3_sudden_below_line": variant({"/data/a3_monitoring_type": "03"}),
    "a3_sudden_above_line": variant({
        "/data/a28_wages": "30000", "/data/a36_compliant_out_of_pocket": "30000",
        "/data/a3_monitoring_type": "03"}),
    "death_after_visit": variant({"/data/members[2]/deceased": YES,
                                  "/data/members[2]/death_date": "2021-06-01"}),
    "death_before_birth": variant({"/data/members[3]/deceased": YES,
                                   "/data/members[3]/death_date": "2015-05-31"}),
    "death_during_identification": variant({"/data/members[2]/deceased": YES,
                                            "/data/members[2]/death_date": "2021-05-01"}),
    "one_team_member": variant({"/data/team_count": "1"}, drop=("/data/team[2]",)),
    "phone_12345": variant({"/data/phone": "12345"}),
    "no_id_card_without_certificate": variant({"/data/members[3]/has_id_card": NO}),
    "no_id_card_with_certificate": variant({"/data/members[3]/has_id_card": NO,
                                            "/data/members[3]/photo_id_certificate": "c.jpg"}),
    "child_uninsured": variant({"/data/members[3]/a17_basic_medical_insurance": NO}),
    "disaster_without_kind": variant({"/data/a27_risk_types": "04"},
                                     drop=("/data/a27_other_text",)),
    "line_2021": variant(BETWEEN_LINES),
    "line_2022": variant({**BETWEEN_LINES, "/data/visit_date": "2022-03-10"}),
    "year_without_line": variant({"/data/visit_date": "2020-06-15"}),
    "thumbprint_instead_of_signature": variant(
        {"/data/applicant_can_sign": NO, "/data/photo_thumbprint": "thumb.jpg"},
        drop=("/data/sig_applicant",)),
}

# (ID number, accepted) — each filled alone into the first member.
ID_PROBES = [
    (WITH_X, True),
    (WITH_X.lower(), True),  # lower-case x: the server upper-cases it (SPEC §3)
    (WITH_X + "11", True),  # 20-digit disability card: category 1, level 1
    (WITH_X + "74", True),
    (id_number("430421", "20000229", 5), True),  # a leap day
    (WITH_X + "84", False),  # disability category 8 does not exist
    (WITH_X + "15", False),  # disability level 5 does not exist
    (WITH_X[:6] + WITH_X[8:17], False),  # 15-digit first-generation number: refused
    (WITH_X[:16], False),
    (WITH_X[:17] + "Y", False),
    (WITH_X[:17] + "0", False),  # wrong check character
    ("X" + WITH_X[1:], False),
    (WITH_X[:6] + " " + WITH_X[6:], False),
    (id_number("990421", "19800101", 5), False),  # 99 is no province
    (id_number("430421", "19800230", 5), False),  # 30 February
    (id_number("430421", "19001301", 5), False),  # month 13
    (id_number("430421", "19000229", 5), False),  # 1900 is no leap year
    (id_number("430421", "18991231", 5), False),  # before 1900
    (id_number("430421", "20991231", 5), False),  # born in the future
]
# (phone, accepted) — filled into the household's phone.
PHONE_PROBES = [
    ("13807341234", True), ("19973412345", True), ("0734-1234567", True),
    ("07341234567", True), ("010-12345678", True),
    ("1380734123", False), ("138073412345", False), ("23807341234", False),
    ("1234567", False), ("734-1234567", False), ("138 0734 1234", False), ("12345", False),
]


@pytest.fixture(scope="module")
def filled(form: BuiltForm) -> dict[str, Outcome]:
    media = {name: b"\xff\xd8\xff\xe0 test image" for name in (
        "hukou.jpg", "id.jpg", "house.jpg", "sig.png", "t1.png", "t2.png", "c.jpg",
        "thumb.jpg")}
    jobs = [Job(name, form.xml, ATTACHMENTS, list(answers.items()), media)
            for name, answers in CASES.items()]
    # one probe job per ID number, each also answering one phone number
    for n, (id_probe, phone_probe) in enumerate(itertools.zip_longest(ID_PROBES, PHONE_PROBES)):
        answers = []
        if id_probe:
            answers.append(("/data/members[1]/a7_id_number", id_probe[0]))
        if phone_probe:
            answers.append(("/data/phone", phone_probe[0]))
        jobs.append(Job(f"probe:{n}", form.xml, ATTACHMENTS, answers))
    outcomes = fill_many(jobs)
    for n, (id_probe, phone_probe) in enumerate(itertools.zip_longest(ID_PROBES, PHONE_PROBES)):
        if id_probe:
            outcomes[f"id:{id_probe[0]}"] = outcomes[f"probe:{n}"]
        if phone_probe:
            outcomes[f"phone:{phone_probe[0]}"] = outcomes[f"probe:{n}"]
    for name, outcome in outcomes.items():
        assert outcome.exit_code == 0, (name, outcome.report.get("answer_errors"),
                                        outcome.report.get("error"))
    return outcomes


# ---------------------------------------------------------------------------------- build


def test_form_builds_and_loads_in_javarosa_without_warnings(form: BuiltForm) -> None:
    """Issue 4: the form builds with pyxform without warnings and loads in JavaRosa (Collect)."""
    assert form.warnings == ()
    assert form.form_id == "household"
    assert form.title == "防止返贫监测对象信息采集表"


def test_primary_instance_is_household_with_content_version(
    form: BuiltForm, doc: etree._Element
) -> None:
    """DESIGN (xlsforms README): form_id household; the version is the build's content version."""
    root = one(doc, "/h:html/h:head/x:model/x:instance[1]/*")
    assert etree.QName(root).localname == "data"
    assert root.get("id") == "household"
    assert root.get("version") == form.version
    assert re.fullmatch(r"[0-9a-f]{12}", form.version)


def test_attachments_are_areas_figures_and_the_households_entity_list(
    form: BuiltForm, doc: etree._Element
) -> None:
    """Issue 4: areas and yearly figures are CSV attachments; households is the entity list."""
    assert_csv_attachments(form, doc, "areas", "figures", "households")


def test_monitoring_line_is_looked_up_by_the_visit_year(doc: etree._Element) -> None:
    """SPEC §3: the line is data per year (figures.csv), never a constant in the form."""
    assert flat(bind(doc, "/data/visit_year").get("calculate")) == \
        "substr(/data/visit_date, 0, 4)"
    assert flat(bind(doc, "/data/monitoring_line").get("calculate")) == \
        "instance('figures')/root/item[year = /data/visit_year]/monitoring_line"
    assert "6500" not in doc.xpath("string(/h:html/h:head/x:model)", namespaces=NS)
    visit = bind(doc, "/data/visit_date")
    assert visit.get("type") == "date"
    assert flat(visit.get("constraint")) == ". <= today() and /data/monitoring_line != ''"
    setvalue = one(doc, "//x:setvalue[@ref='/data/visit_date']")
    assert setvalue.get("value") == "today()"


@pytest.mark.parametrize(("field", "level", "parent"), ADDRESS_LEVELS)
def test_address_levels_cascade_on_level_and_parent(
    doc: etree._Element, field: str, level: str, parent: str | None
) -> None:
    """SPEC §2: address 县/乡/村/组 from cascading lists (area tree of SPEC §1)."""
    itemset = one(doc, f"//x:select1[@ref='/data/address/{field}']/x:itemset")
    nodeset = flat(itemset.get("nodeset"))
    assert nodeset.startswith("instance('areas')/root/item[")
    assert f"level='{level}'" in nodeset
    if parent is None:
        assert "parent" not in nodeset
    else:
        assert f"parent={parent}" in nodeset.replace("= ", "=")
    assert one(itemset, "x:value").get("ref") == "name"
    assert one(itemset, "x:label").get("ref") == "label"
    assert bind(doc, f"/data/address/{field}").get("required") == "true()"


# ---------------------------------------------------------------------------------- XForm


def test_id_number_constraint_computes_the_gb11643_check_character(doc: etree._Element) -> None:
    """SPEC §3: the 17 digits weighted 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2;
    check = "10X98765432"[sum mod 11] (x or X); birth date; no ID twice in the household."""
    id_bind = bind(doc, "/data/members/a7_id_number")
    constraint = flat(id_bind.get("constraint"))
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    terms = " + ".join(f"int(substr(., {i}, {i + 1})) * {w}" for i, w in enumerate(weights))
    assert f"starts-with(substr('10X98765432', ({terms}) mod 11), " \
           "translate(substr(., 17, 18), 'x', 'X'))" in constraint
    assert "[0-9]{15}[0-9Xx]([1-7][1-4])?$" in constraint  # 18 chars or a 20-digit card
    assert "number(format-date(today(), '%Y%m%d'))" in constraint  # birth not in the future
    assert "current()" in constraint  # no ID twice in the household
    assert id_bind.get("required") == "true()"
    assert "校验码" in id_bind.get(f"{JR}constraintMsg")


def test_sex_and_age_are_calculated_from_the_id_and_shown(doc: etree._Element) -> None:
    """SPEC §2/§3: A6 from digit 17 (odd 男, even 女), shown not typed; age at the visit date."""
    sex = flat(bind(doc, "/data/members/a6_sex").get("calculate"))
    assert "int(substr(../id18, 16, 17)) mod 2 = 1, '男', '女'" in sex
    assert not doc.xpath("//h:body//*[@ref='/data/members/a6_sex']", namespaces=NS)
    shown = one(doc, "//x:input[@ref='/data/members/note_a6']/x:label/x:output[1]")
    assert flat(shown.get("value")) == "../a6_sex"
    assert "/data/visit_date" in bind(doc, "/data/members/age").get("calculate")


def test_roster_rules_one_head_and_work_months(doc: etree._Element) -> None:
    """Issue 4: exactly one head (A8 = 01); A16 between 0 and 12 in halves."""
    a8 = bind(doc, "/data/members/a8_relation")
    assert flat(a8.get("constraint")) == ". != '01' or count(../../members[a8_relation = '01']) = 1"
    check = bind(doc, "/data/members_check")
    assert flat(check.get("constraint")) == "count(/data/members[a8_relation = '01']) = 1"
    assert check.get("required") == "true()"
    a16 = bind(doc, "/data/members/a16_work_months")
    assert a16.get("type") == "decimal"
    assert a16.get("constraint") == ". >= 0 and . <= 12 and (. * 2) = int(. * 2)"


def test_labour_skill_constraint_reads_the_age(doc: etree._Element) -> None:
    """SPEC §3: under 16 → 无劳动力; 16–60 not 无劳动力; over 60 → 弱/半 or 无; 技能 any age."""
    constraint = flat(bind(doc, "/data/members/a14_labour_skill").get("constraint"))
    assert constraint.startswith(". = '02' or ")
    for part in ("../age < 16 and . = '04'", "../age >= 16 and ../age <= 60 and . != '04'",
                 "../age > 60 and (. = '04' or . = '05')"):
        assert part in constraint


def test_money_fields_are_decimals_not_below_zero(doc: etree._Element) -> None:
    """SPEC §2/§3: A28–A32, A35, A36 in yuan, ≥ 0, with a Chinese message."""
    for name in ("a28_wages", "a29_business_income", "a30_property_income",
                 "a31_transfer_income", "a32_business_expenses", "a35_insurance_claims",
                 "a36_compliant_out_of_pocket"):
        money = bind(doc, f"/data/{name}")
        assert money.get("type") == "decimal", name
        assert money.get("constraint") == ". >= 0", name
        assert money.get("required") == "true()", name
        assert "负数" in money.get(f"{JR}constraintMsg")


def test_derived_incomes_household_size_and_a26_are_calculated(doc: etree._Element) -> None:
    """SPEC §3: A33 = A28+A29+A30+A31−A32, A34 = A33/size, A37 = A33+A35−A36, A38 = A37/size."""
    expected = {
        "a33_net_income": "/data/a28_wages + /data/a29_business_income + "
                          "/data/a30_property_income + /data/a31_transfer_income - "
                          "/data/a32_business_expenses",
        "a34_net_income_per_capita": "/data/a33_net_income div /data/household_size",
        "a37_income_reference": "/data/a33_net_income + /data/a35_insurance_claims - "
                                "/data/a36_compliant_out_of_pocket",
        "a38_income_reference_per_capita": "/data/a37_income_reference div /data/household_size",
        "household_size": "count(/data/members)",
        "a26_member_uninsured": "if(count(/data/members[a17_basic_medical_insurance = '02']) "
                                "> 0, '01', '02')",
    }
    for name, calculation in expected.items():
        assert flat(bind(doc, f"/data/{name}").get("calculate")) == calculation, name
    # rounded only for display
    assert flat(bind(doc, "/data/show_a34").get("calculate")) == \
        "round(/data/a34_net_income_per_capita, 2)"


def test_a3_sudden_severe_difficulty_is_refused_below_the_line(doc: etree._Element) -> None:
    """SPEC §4: a household with A34 < line is never 突发严重困难户 (03)."""
    a3 = bind(doc, "/data/a3_monitoring_type")
    assert flat(a3.get("constraint")) == \
        "not(. = '03' and /data/a34_net_income_per_capita < /data/monitoring_line)"
    assert a3.get("required") == "true()"


def test_team_of_at_least_two_signs_with_signature_appearance(doc: etree._Element) -> None:
    """SPEC §2/§6: a verification team of ≥ 2 signs on the phone."""
    count = bind(doc, "/data/team_count")
    assert count.get("type") == "int"
    assert count.get("constraint") == ". >= 2 and . <= 10"
    repeat = one(doc, "//x:repeat[@nodeset='/data/team']")
    assert flat(repeat.get(f"{JR}count")) == "/data/team_count"
    for path in ("/data/team/team_signature", "/data/sig_applicant"):
        assert one(doc, f"//x:upload[@ref='{path}']").get("appearance") == "signature"
        assert bind(doc, path).get("type") == "binary"


def test_photos_and_gps_are_required(form: BuiltForm, doc: etree._Element) -> None:
    """SPEC §2: photos of the 户口簿, ID cards, the house; the GPS point of the visit."""
    images = {b.path for b in form.binary_fields if b.is_image}
    for path in ("/data/photo_hukou", "/data/id_photos/photo_id_card", "/data/photo_house"):
        assert path in images
        assert bind(doc, path).get("required") == "true()"
    assert "/data/proof_photos/photo_proof" in images
    assert bind(doc, "/data/id_photo_count").get("constraint") == ". >= 1 and . <= 20"
    gps = bind(doc, "/data/visit_location")
    assert (gps.get("type"), gps.get("required")) == ("geopoint", "true()")


def test_commitment_text_of_attachment_1_is_shown(doc: etree._Element) -> None:
    """SPEC §6 / 附件1: the applicant authorises checks of deposits, vehicles, housing,
    business registration and 财政供养, in the source's words."""
    text = etree.tostring(one(doc, "//x:input[@ref='/data/note_commitment']"), encoding="unicode")
    assert "3.授权相关部门依法核实家庭存款、车辆、住房、工商注册、财政供养等相关信息。" in text
    assert "愿承担一切法律责任" in text


def test_select_choices_equal_the_code_tables(doc: etree._Element) -> None:
    """SPEC §2: every code table of 附件6 as choices, codes and labels exactly as the registry."""
    used = set()
    for itemset in doc.xpath("//h:body//x:itemset", namespaces=NS):
        match = re.fullmatch(r"instance\('([a-z0-9_]+)'\)/root/item", itemset.get("nodeset"))
        if match and match.group(1) not in ("areas", "households"):
            used.add(match.group(1))
    assert_lists_are_code_tables(doc, used - {"team_role"})
    assert list_items(doc, "team_role") == TEAM_ROLE
    assert used == {
        "yes_no", "a3_monitoring_type", "a8_relation", "a9_ethnicity", "a10_political_status",
        "a11_education", "a12_schooling", "a13_health", "a14_labour_skill", "a15_work_area",
        "a27_risk_type", "a27a_disaster_kind", "team_role",
    }


def _kind_on_form(doc: etree._Element, path: str) -> str:
    b = bind(doc, path)
    if b.get("calculate") is not None:
        return "calculate"
    control = doc.xpath(f"//h:body//*[@ref='{path}']", namespaces=NS)
    tag = etree.QName(control[0]).localname if control else ""
    return {"select1": "select_one", "select": "select_multiple", "upload": "image"}.get(
        tag, b.get("type"))


KIND_ON_FORM = {
    Kind.TEXT: "string", Kind.ID_NUMBER: "string", Kind.PHONE: "string",
    Kind.DECIMAL: "decimal", Kind.MONEY: "decimal", Kind.INTEGER: "int",
    Kind.SELECT_ONE: "select_one", Kind.SELECT_MULTIPLE: "select_multiple",
    Kind.DATE: "date", Kind.GEOPOINT: "geopoint", Kind.IMAGE: "image",
}


# Fields of the registry without an A-code that this form holds.
NOT_A_CODED = (
    "addr_county", "addr_township", "addr_village", "addr_group", "phone", "visit_date",
    "has_id_card", "photo_id_certificate", "deceased", "death_date", "household_size",
    "severe_difficulty", "photo_hukou", "photo_house", "visit_location", "sig_applicant",
    "photo_thumbprint", "application_date", "fill_date",
)


def test_every_stage_one_field_of_the_registry_is_on_the_form_with_its_kind(
    doc: etree._Element,
) -> None:
    """DESIGN (one registry): A1–A38 and A55 and this form's other fields are named as in
    server.domain.fields, with a matching kind; derived fields are calculated."""
    paths = {name: b.get("nodeset") for name, b in field_binds(doc)}
    on_form = [f for f in fields_of_stage(1) if f.code] + [BY_NAME[n] for n in NOT_A_CODED]
    for field in on_form:
        assert field.name in paths, field.name
        kind = _kind_on_form(doc, paths[field.name])
        expected = "calculate" if field.derived else KIND_ON_FORM[field.kind]
        if field.name.startswith("addr_"):  # area codes picked from areas.csv
            expected = "select_one"
        assert kind == expected, (field.name, kind, expected)
        if field.table and not field.derived:
            select = one(doc, f"//h:body//*[@ref='{paths[field.name]}']/x:itemset")
            assert select.get("nodeset") == f"instance('{field.table}')/root/item"
    a_fields = {name for name in paths if re.match(r"a\d+[a-z]?_", name)}
    assert a_fields <= {f.name for f in FIELDS}, a_fields - {f.name for f in FIELDS}
    assert BY_NAME["fill_date"].archive_only
    assert "不录入系统" in etree.tostring(
        one(doc, "//x:input[@ref='/data/fill_date']"), encoding="unicode")


def test_member_roster_hints_who_counts_as_a_member(doc: etree._Element) -> None:
    """SPEC §2: who is a member (and who is not) is shown as a hint on the member roster."""
    hint = one(doc, "//x:input[@ref='/data/members/a5_name']/x:hint").text
    for included in ("在外学生", "轮流居住的老人", "临时外出"):
        assert included in hint
    for excluded in ("已分家子女", "出嫁人员", "寄宿者", "帮工", "已应征入伍者"):
        assert excluded in hint


def test_entity_declaration_creates_or_updates_a_household(doc: etree._Element) -> None:
    """Issue 4: ODK Entities — the form registers or updates the household in `households`."""
    entity = one(doc, "/h:html/h:head/x:model/x:instance[1]/*/x:meta/x:entity")
    assert entity.get("dataset") == "households"
    assert flat(bind(doc, "/data/meta/entity/@id").get("calculate")) == \
        "coalesce(/data/household, /data/new_household_key)"
    assert flat(bind(doc, "/data/meta/entity/@create").get("calculate")) == \
        "/data/resurvey = '02'"
    assert flat(bind(doc, "/data/meta/entity/@update").get("calculate")) == \
        "/data/resurvey = '01'"
    assert flat(bind(doc, "/data/meta/entity/label").get("calculate")) == \
        "concat(/data/head_name, ' ', /data/village_name, /data/group_name)"
    saved = {b.get(f"{{{NS['entities']}}}saveto") for b in doc.xpath(
        "//x:bind[@entities:saveto]", namespaces=NS)}
    assert saved == {
        "addr_county", "addr_township", "addr_village", "addr_group", "head_name",
        "head_id_masked", "household_size", "phone", "a1_resettlement_site",
        "a3_monitoring_type", "a4_formerly_poor", "a28_wages", "a29_business_income",
        "a30_property_income", "a31_transfer_income", "a32_business_expenses",
        "a35_insurance_claims", "a36_compliant_out_of_pocket", "a55_contact_name",
        "a55_contact_phone", "labour_capacity",
    }


def test_instance_id_is_generated_on_the_phone(doc: etree._Element) -> None:
    """SPEC §5: the same submission sent twice (same instanceID) is stored once."""
    one(doc, "/h:html/h:head/x:model/x:instance[1]/*/x:meta/x:instanceID")
    assert bind(doc, "/data/meta/instanceID").get(f"{JR}preload") == "uid"


def test_instance_name_is_head_name_and_village(doc: etree._Element) -> None:
    """SPEC §5: a household is found by its head (A8 = 本人或户主); the name shows head and 村."""
    assert flat(bind(doc, "/data/meta/instanceName").get("calculate")) == \
        "concat(/data/head_name, '-', /data/village_name)"
    assert flat(bind(doc, "/data/head_name").get("calculate")) == \
        "/data/members/a5_name[../a8_relation = '01']"
    assert flat(bind(doc, "/data/village_name").get("calculate")) == \
        "instance('areas')/root/item[name = /data/address/addr_village]/label"


def test_rebuilding_gives_the_same_version_and_bytes(form: BuiltForm) -> None:
    """DESIGN (formList hash = md5 of the bytes served): an unchanged form keeps its version."""
    again = build_xform(FORM)
    assert again.version == form.version
    assert again.xml == form.xml


def test_building_from_xlsx_bytes_matches_building_from_the_file(form: BuiltForm) -> None:
    """DESIGN (server/forms/build.py): an uploaded .xlsx (bytes) builds to the same XForm as the
    file."""
    assert build_xform(FORM.read_bytes()).xml == form.xml


def test_changing_a_label_gives_a_new_version(form: BuiltForm) -> None:
    """DESIGN (xlsforms README, no version column): any change that reaches the phone versions."""
    changed = build_xform(relabelled(FORM, "photo_house", "住房照片（正面）"))

    assert changed.version != form.version
    assert changed.form_id == form.form_id
    assert "住房照片（正面）" in changed.xml.decode("utf-8")


# ---------------------------------------------------------------------------------- engine


def test_valid_household_fills_with_the_expected_calculations(filled) -> None:
    """SPEC §2/§3: a household of 3 (head, spouse, child < 16 无劳动力) is valid; A33–A38,
    household size, sex and age computed by the form."""
    outcome = filled["valid"]
    assert outcome.valid, outcome.violations()
    value = outcome.value
    assert value("/data/household_size") == "3"
    assert value("/data/a33_net_income") == "16000.5"
    assert value("/data/a34_net_income_per_capita") == "5333.5"
    assert value("/data/a37_income_reference") == "9000.5"
    assert float(value("/data/a38_income_reference_per_capita")) == pytest.approx(9000.5 / 3)
    assert value("/data/show_a38") == "3000.17"
    assert value("/data/monitoring_line") == "6500"
    assert (value("/data/below_line_a34"), value("/data/flag_a34")) == ("01", "低于")
    assert value("/data/flag_a38") == "低于"
    sexes = [value(f"/data/members[{n}]/a6_sex") for n in (1, 2, 3)]
    ages = [value(f"/data/members[{n}]/age") for n in (1, 2, 3)]
    assert (sexes, ages) == (["男", "女", "女"], ["41", "39", "5"])
    assert value("/data/members[1]/birth_text") == "1980年01月01日"
    assert value("/data/head_name") == "张三"
    assert value("/data/head_id_masked") == HEAD_ID[:6] + "********" + HEAD_ID[14:]
    assert value("/data/labour_capacity") == "01"
    assert value("/data/a26_member_uninsured") == "02"


def test_income_period_is_the_twelve_months_before_the_visit_month(filled) -> None:
    """SPEC §3: visited in May 2021 → 2020-05-01 to 2021-04-30."""
    assert filled["valid"].value("/data/income_period_start") == "2020-05-01"
    assert filled["valid"].value("/data/income_period_end") == "2021-04-30"
    assert filled["line_2022"].value("/data/income_period_start") == "2021-03-01"
    assert filled["line_2022"].value("/data/income_period_end") == "2022-02-28"


def test_numbered_risks_come_from_the_fields(filled) -> None:
    """SPEC §4: ① A34 < line, ② A23, ⑤ A26, ⑥–⑭ A27 codes 01–09 (附件1 "我家因__")."""
    assert filled["valid"].value("/data/risk_numbers") == "1 2 6 14"
    assert filled["valid"].value("/data/risk_marks") == "①②⑥⑭"
    assert filled["valid"].value("/data/risk_other") == "（⑭其他：房屋漏雨）"
    uninsured = filled["child_uninsured"]
    assert uninsured.valid
    assert uninsured.value("/data/a26_member_uninsured") == "01"
    assert uninsured.value("/data/risk_numbers") == "1 2 5 6 14"
    assert filled["line_2021"].value("/data/risk_numbers") == "2 6 14"


def test_entity_is_created_for_a_new_household(filled) -> None:
    """Issue 4: a household registered by the form appears in the entity list `households`."""
    attributes = {a["path"]: a["value"] for a in filled["valid"].report["attributes"]}
    assert attributes["/data/meta/entity/@dataset"] == "households"
    assert attributes["/data/meta/entity/@create"] == "true"
    assert attributes["/data/meta/entity/@update"] == "false"
    assert re.fullmatch(r"[0-9a-f-]{36}", attributes["/data/meta/entity/@id"])
    assert filled["valid"].value("/data/meta/entity/label") == "张三 洪罗庙社区第一村民小组"


def test_entity_is_updated_for_a_household_picked_from_the_list(filled) -> None:
    """Issue 4: a re-survey updates the household picked from households.csv (same key)."""
    outcome = filled["resurvey"]
    assert outcome.valid, outcome.violations()
    attributes = {a["path"]: a["value"] for a in outcome.report["attributes"]}
    assert attributes["/data/meta/entity/@id"] == "hh-0001"
    assert attributes["/data/meta/entity/@update"] == "true"
    assert attributes["/data/meta/entity/@create"] == "false"
    assert attributes["/data/meta/entity/@baseVersion"] == "3"
    assert not filled["valid"].node("/data/household")["relevant"]


@pytest.mark.parametrize(
    ("case", "violations"),
    [
        ("bad_check_character", {"/data/members[1]/a7_id_number": "constraint"}),
        ("two_heads", {"/data/members[1]/a8_relation": "constraint",
                       "/data/members[2]/a8_relation": "constraint",
                       "/data/members_check": "constraint"}),
        ("no_head", {"/data/members_check": "constraint"}),
        ("same_id_twice", {"/data/members[1]/a7_id_number": "constraint",
                           "/data/members[2]/a7_id_number": "constraint"}),
        ("disability_card_is_the_same_person", {"/data/members[1]/a7_id_number": "constraint",
                                                "/data/members[2]/a7_id_number": "constraint"}),
        ("a16_13", {"/data/members[1]/a16_work_months": "constraint"}),
        ("a16_3_3", {"/data/members[1]/a16_work_months": "constraint"}),
        ("negative_income", {"/data/a28_wages": "constraint"}),
        ("child_a14_ordinary", {"/data/members[3]/a14_labour_skill": "constraint"}),
        ("adult_a14_none", {"/data/members[2]/a14_labour_skill": "constraint"}),
        ("elder_a14_ordinary", {"/data/members[4]/a14_labour_skill": "constraint"}),
        ("a1_yes_without_site", {"/data/a2_site_name": "required"}),
        ("a3_sudden_below_line", {"/data/a3_monitoring_type": "constraint"}),
        ("death_after_visit", {"/data/members[2]/death_date": "constraint"}),
        ("death_before_birth", {"/data/members[3]/death_date": "constraint"}),
        ("one_team_member", {"/data/team_count": "constraint"}),
        ("phone_12345", {"/data/phone": "constraint"}),
        ("no_id_card_without_certificate", {"/data/members[3]/photo_id_certificate": "required"}),
        ("disaster_without_kind", {"/data/a27a_disaster_kinds": "required"}),
        ("year_without_line", {"/data/visit_date": "constraint"}),
    ],
)
def test_invalid_households_are_refused_on_the_right_question(
    filled, case: str, violations: dict[str, str]
) -> None:
    """Issue 4 / SPEC §2–§4: the phone catches each error at entry, on the question at fault."""
    outcome = filled[case]
    assert not outcome.valid
    assert outcome.violations() == violations


@pytest.mark.parametrize(
    "case",
    ["child_a14_skilled", "elder_a14_weak", "a1_yes_with_site", "a3_sudden_above_line",
     "death_during_identification", "no_id_card_with_certificate",
     "thumbprint_instead_of_signature", "line_2021", "line_2022"],
)
def test_allowed_variants_are_valid(filled, case: str) -> None:
    """SPEC §2–§4: 技能劳动力 at any age (warned), A2 when A1 = 是, 03 above the line, a death
    during identification, the ID certificate, a thumbprint photo, both yearly lines."""
    assert filled[case].valid, filled[case].violations()


def test_a2_is_asked_only_in_a_resettlement_site(filled) -> None:
    """SPEC §2: A2 site name only when A1 = 是."""
    assert not filled["valid"].node("/data/a2_site_name")["relevant"]
    assert filled["a1_yes_with_site"].node("/data/a2_site_name")["relevant"]


def test_skilled_labour_outside_16_to_60_is_warned_not_refused(filled) -> None:
    """SPEC §3: 技能劳动力 has no age limit in the source: warn (a note), don't reject."""
    assert filled["child_a14_skilled"].node("/data/members[3]/note_a14_skilled_age")["relevant"]
    assert not filled["valid"].node("/data/members[3]/note_a14_skilled_age")["relevant"]


def test_a3_proposal_follows_a4_a34_a38_and_the_severe_difficulty(filled) -> None:
    """SPEC §4: 01 when A4 = 是 and A34 < line; 03 when A34 ≥ line and A38 < line."""
    assert filled["valid"].value("/data/proposed_type") == "01"
    assert filled["valid"].value("/data/proposed_type_label") == "脱贫不稳定户"
    sudden = filled["a3_sudden_above_line"]
    assert (sudden.value("/data/flag_a34"), sudden.value("/data/flag_a38")) == ("不低于", "低于")
    assert sudden.value("/data/proposed_type") == "03"


def test_deceased_member_still_counts_in_this_surveys_household_size(filled) -> None:
    """SPEC §2: a member who dies during identification counts in the size of this survey."""
    outcome = filled["death_during_identification"]
    assert outcome.value("/data/household_size") == "3"
    assert outcome.value("/data/a34_net_income_per_capita") == "5333.5"


def test_the_line_and_the_flag_follow_the_visit_year(filled) -> None:
    """SPEC §3: the line is set per year (figures.csv): A34 = 6700 is not below 2021's 6500
    but below 2022's 6900."""
    first, second = filled["line_2021"], filled["line_2022"]
    assert first.value("/data/a34_net_income_per_capita") == "6700"
    assert (first.value("/data/monitoring_line"), first.value("/data/flag_a34")) == \
        ("6500", "不低于")
    assert (second.value("/data/monitoring_line"), second.value("/data/flag_a34")) == \
        ("6900", "低于")
    assert (first.value("/data/proposed_type"), second.value("/data/proposed_type")) == ("", "01")


@pytest.mark.parametrize(("value", "accepted"), ID_PROBES)
def test_id_number_constraint_in_the_engine(filled, value: str, accepted: bool) -> None:
    """SPEC §2 A7 and §3: province code, real birth date not in the future, GB 11643 check
    character (x or X), 20-digit disability card (category 1–7, level 1–4); 15 digits refused."""
    violation = filled[f"id:{value}"].violations().get("/data/members[1]/a7_id_number")
    assert violation == (None if accepted else "constraint")


@pytest.mark.parametrize(("value", "accepted"), PHONE_PROBES)
def test_phone_constraint_in_the_engine(filled, value: str, accepted: bool) -> None:
    """SPEC §2: mobile 11 digits starting with 1, or landline with area code."""
    violation = filled[f"phone:{value}"].violations().get("/data/phone")
    assert violation == (None if accepted else "constraint")

"""The household form (附件2 防止返贫监测对象信息采集表, first short version) as the phone sees it.

Each test builds ``xlsforms/household.xlsx`` with ``sync.build.build_xform`` and asserts on the
XForm pyxform produced, with XPath. Constraints are checked by evaluating the exact expression
found in the XForm (``regex()`` read as XPath 2 ``matches()``) against example values, so the
patterns are never re-typed here.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import elementpath
import pytest
from lxml import etree
from openpyxl import load_workbook

from sync.build import NS, BuiltForm, build_xform

FORM = Path(__file__).resolve().parents[2] / "xlsforms" / "household.xlsx"


@pytest.fixture(scope="module")
def form() -> BuiltForm:
    return build_xform(FORM)


@pytest.fixture(scope="module")
def doc(form: BuiltForm) -> etree._Element:
    return etree.fromstring(form.xml)


def one(doc: etree._Element, xpath: str) -> etree._Element:
    found = doc.xpath(xpath, namespaces=NS)
    assert len(found) == 1, f"{xpath}: {len(found)} matches"
    return found[0]


def bind(doc: etree._Element, path: str) -> etree._Element:
    return one(doc, f"/h:html/h:head/x:model/x:bind[@nodeset='{path}']")


def constraint_accepts(constraint: str, value: str) -> bool:
    """Evaluate an ODK ``regex(., 'pattern')`` constraint on a value, as Collect would.

    JavaRosa's regex() finds the pattern anywhere in the value (anchors decide), like XPath 2
    matches(); the expression is otherwise evaluated as written in the XForm.
    """
    assert constraint.startswith("regex(")
    node = etree.Element("value")
    node.text = value
    return bool(elementpath.select(node, "matches" + constraint[len("regex") :]))


def test_form_builds_without_warnings(form: BuiltForm) -> None:
    """SPEC §2: the forms are XLSForms in xlsforms/; the household form converts cleanly."""
    assert form.warnings == ()
    assert form.form_id == "household"
    assert form.title == "防止返贫监测对象信息采集表"


def test_primary_instance_is_household_with_content_version(
    form: BuiltForm, doc: etree._Element
) -> None:
    """DESIGN (xlsforms README): form_id household; the version is the build's content version."""
    root = one(doc, "/h:html/h:head/x:model/x:instance[1]/*")
    assert root.get("id") == "household"
    assert root.get("version") == form.version
    assert re.fullmatch(r"[0-9a-f]{12}", form.version)


def test_areas_csv_is_an_external_instance(form: BuiltForm, doc: etree._Element) -> None:
    """SPEC §1/§2: the address is picked from the helper's area list, served as areas.csv."""
    areas = one(doc, "/h:html/h:head/x:model/x:instance[@id='areas']")
    assert areas.get("src") == "jr://file-csv/areas.csv"
    assert form.media == ("areas.csv",)


@pytest.mark.parametrize(
    ("field", "level", "parent"),
    [
        ("addr_county", "county", None),
        ("addr_township", "township", "/data/address/addr_county"),
        ("addr_village", "village", "/data/address/addr_township"),
        ("addr_group", "group", "/data/address/addr_village"),
    ],
)
def test_address_levels_cascade_on_level_and_parent(
    doc: etree._Element, field: str, level: str, parent: str | None
) -> None:
    """SPEC §2: address 县/乡/村/组 from cascading lists (area tree of SPEC §1)."""
    select = one(doc, f"//x:select1[@ref='/data/address/{field}']")
    itemset = one(select, "x:itemset")
    nodeset = " ".join(itemset.get("nodeset").split())
    assert nodeset.startswith("instance('areas')/root/item[")
    assert f"level='{level}'" in nodeset
    if parent is None:
        assert "parent" not in nodeset
    else:
        assert f"parent= {parent}" in nodeset or f"parent={parent}" in nodeset
    assert one(itemset, "x:value").get("ref") == "name"
    assert one(itemset, "x:label").get("ref") == "label"
    assert bind(doc, f"/data/address/{field}").get("required") == "true()"


def test_members_repeat_holds_required_constrained_id_number(doc: etree._Element) -> None:
    """SPEC §2 members (repeat) with A5, A7, A8; SPEC §3 ID number: 17 digits + check char."""
    repeat = one(doc, "//x:repeat[@nodeset='/data/members']")
    refs = [el.get("ref") for el in repeat.xpath("x:*[@ref]", namespaces=NS)]
    assert refs == [
        "/data/members/a5_name",
        "/data/members/a7_id_number",
        "/data/members/a8_relation",
    ]
    for field in ("a5_name", "a7_id_number", "a8_relation"):
        assert bind(doc, f"/data/members/{field}").get("required") == "true()"
    id_bind = bind(doc, "/data/members/a7_id_number")
    assert id_bind.get("constraint", "").startswith("regex(")
    assert id_bind.get(f"{{{NS['jr']}}}constraintMsg")


def test_member_roster_hints_who_counts_as_a_member(doc: etree._Element) -> None:
    """SPEC §2: who is a member (and who is not) is shown as a hint on the member roster."""
    hint = one(doc, "//x:input[@ref='/data/members/a5_name']/x:hint").text
    for included in ("在外学生", "轮流居住的老人", "临时外出"):
        assert included in hint
    for excluded in ("已分家子女", "出嫁人员", "寄宿者", "帮工", "已应征入伍者"):
        assert excluded in hint


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("11010519491231002X", True),  # 18 characters, X check character
        ("110105194912310029", True),
        ("11010519491231002x", True),  # lower-case x: the server upper-cases it (SPEC §3)
        ("11010519491231002X11", True),  # 20-digit disability card: category 1, level 1
        ("11010519491231002X74", True),
        ("11010519491231002X84", False),  # disability category 8 does not exist
        ("11010519491231002X15", False),  # disability level 5 does not exist
        ("110105491231002", False),  # 15-digit first-generation number: refused
        ("1101051949123100", False),
        ("11010519491231002Y", False),
        ("X10105194912310029", False),
        ("110105 19491231002X", False),
        ("", False),
    ],
)
def test_id_number_constraint_takes_18_digit_ids_and_20_digit_disability_cards(
    doc: etree._Element, value: str, accepted: bool
) -> None:
    """SPEC §2 A7 and §3: 17 digits + digit/X; a disability card adds category 1–7, level 1–4."""
    constraint = bind(doc, "/data/members/a7_id_number").get("constraint")
    assert constraint_accepts(constraint, value) is accepted


def test_a8_relation_uses_the_field_guide_codes(doc: etree._Element) -> None:
    """SPEC §2: code tables from seeds (附件6, A8 与户主关系), codes kept as given."""
    items = doc.xpath(
        "/h:html/h:head/x:model/x:instance[@id='relation']/x:root/x:item", namespaces=NS
    )
    table = {
        item.findtext("x:name", namespaces=NS): item.findtext("x:label", namespaces=NS)
        for item in items
    }
    assert table == {
        "01": "本人或户主", "02": "配偶", "03": "之子", "04": "之女", "05": "之儿媳",
        "06": "之女婿", "07": "之孙子", "08": "之孙女", "09": "之外孙子", "10": "之外孙女",
        "11": "之父", "12": "之母", "13": "之岳父", "14": "之岳母", "15": "之公公",
        "16": "之婆婆", "17": "之祖父", "18": "之祖母", "19": "之外祖父", "20": "之外祖母",
        "21": "之兄弟姐妹", "99": "其他",
    }  # fmt: skip
    select = one(doc, "//x:select1[@ref='/data/members/a8_relation']/x:itemset")
    assert select.get("nodeset") == "instance('relation')/root/item"


def test_phone_constraint_exists_with_a_chinese_message(doc: etree._Element) -> None:
    """SPEC §2: contact phone, mobile 11 digits or landline with area code."""
    phone = bind(doc, "/data/phone")
    assert phone.get("required") == "true()"
    assert phone.get("constraint", "").startswith("regex(")
    assert "手机" in phone.get(f"{{{NS['jr']}}}constraintMsg")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("13807341234", True),  # mobile
        ("19973412345", True),
        ("0734-1234567", True),  # 衡阳 landline with area code
        ("07341234567", True),
        ("010-12345678", True),
        ("1380734123", False),  # 10 digits
        ("138073412345", False),  # 12 digits
        ("23807341234", False),  # mobile must start with 1
        ("1234567", False),  # landline without area code
        ("734-1234567", False),
        ("138 0734 1234", False),
        ("", False),
    ],
)
def test_phone_constraint_takes_mobiles_and_landlines_with_area_code(
    doc: etree._Element, value: str, accepted: bool
) -> None:
    """SPEC §2: mobile 11 digits or landline with area code (若为固定电话，需填写区号)."""
    constraint = bind(doc, "/data/phone").get("constraint")
    assert constraint_accepts(constraint, value) is accepted


@pytest.mark.parametrize(
    ("field", "appearance"), [("photo_house", None), ("sig_applicant", "signature")]
)
def test_photo_and_signature_are_required_image_uploads(
    form: BuiltForm, doc: etree._Element, field: str, appearance: str | None
) -> None:
    """SPEC §1/§2: the helper takes photos (the house) and collects signatures on the phone."""
    path = f"/data/{field}"
    field_bind = bind(doc, path)
    assert field_bind.get("type") == "binary"
    assert field_bind.get("required") == "true()"
    upload = one(doc, f"/h:html/h:body/x:upload[@ref='{path}']")
    assert upload.get("mediatype") == "image/*"
    assert upload.get("appearance") == appearance
    assert path in {b.path for b in form.binary_fields if b.is_image}


def test_instance_id_is_generated_on_the_phone(doc: etree._Element) -> None:
    """SPEC §5: the same submission sent twice (same instanceID) is stored once."""
    one(doc, "/h:html/h:head/x:model/x:instance[1]/*/x:meta/x:instanceID")
    assert bind(doc, "/data/meta/instanceID").get(f"{{{NS['jr']}}}preload") == "uid"


def test_instance_name_is_head_name_and_village(doc: etree._Element) -> None:
    """SPEC §5: a household is found by its head (A8 = 本人或户主); the name shows head and 村."""
    name = " ".join(bind(doc, "/data/meta/instanceName").get("calculate").split())
    assert name == "concat( /data/head_name , '-', /data/village_name )"
    head = " ".join(bind(doc, "/data/head_name").get("calculate").split())
    assert head == "/data/members/a5_name [../a8_relation = '01']"
    village = " ".join(bind(doc, "/data/village_name").get("calculate").split())
    assert village == "instance('areas')/root/item[name = /data/address/addr_village ]/label"


def test_rebuilding_gives_the_same_version_and_bytes(form: BuiltForm) -> None:
    """DESIGN (formList hash = md5 of the bytes served): an unchanged form keeps its version."""
    again = build_xform(FORM)
    assert again.version == form.version
    assert again.xml == form.xml


def test_building_from_xlsx_bytes_matches_building_from_the_file(form: BuiltForm) -> None:
    """DESIGN (sync/build.py): an uploaded .xlsx (bytes) builds to the same XForm as the file."""
    assert build_xform(FORM.read_bytes()).xml == form.xml


def test_changing_a_label_gives_a_new_version(form: BuiltForm, tmp_path: Path) -> None:
    """DESIGN (xlsforms README, no version column): any change that reaches the phone versions."""
    workbook = load_workbook(FORM)
    survey = workbook["survey"]
    header = [cell.value for cell in survey[1]]
    name_col, label_col = header.index("name"), header.index("label")
    row = next(r for r in survey.iter_rows(min_row=2) if r[name_col].value == "photo_house")
    row[label_col].value = "住房照片（正面）"
    buffer = BytesIO()
    workbook.save(buffer)
    changed = build_xform(buffer.getvalue())

    assert changed.version != form.version
    assert changed.form_id == form.form_id
    assert "住房照片（正面）" in changed.xml.decode("utf-8")

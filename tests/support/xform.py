"""Helpers for the form tests (tests/forms): XPath on a built XForm, its choice lists against
``server.domain.codes.TABLES``, the CSV attachments a form reads, and named cases filled in one
engine batch (``tests.support.engine``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from io import BytesIO
from pathlib import Path

from lxml import etree
from openpyxl import load_workbook

from server.domain.codes import TABLES
from server.domain.fields import BY_NAME, Field
from server.forms.build import NS as BUILD_NS
from server.forms.build import BuiltForm
from tests.support.engine import Job, Outcome, fill_many

NS = {
    **BUILD_NS,  # h: XHTML, x: XForms, jr: JavaRosa
    "odk": "http://www.opendatakit.org/xforms",
    "entities": "http://www.opendatakit.org/xforms/entities",
}
JR = f"{{{NS['jr']}}}"

# The verification team's roles: not in codes.TABLES yet (the registry owner adds them).
TEAM_ROLE = [("01", "乡镇干部"), ("02", "驻村/包村干部"), ("03", "村干部")]

# The address cascade (县/乡/村/组) from areas.csv: (field, level, the field it filters on).
ADDRESS_LEVELS = [
    ("addr_county", "county", None),
    ("addr_township", "township", "/data/address/addr_county"),
    ("addr_village", "village", "/data/address/addr_township"),
    ("addr_group", "group", "/data/address/addr_village"),
]

# ---------------------------------------------------------------------------------- XPath


def one(node: etree._Element, xpath: str) -> etree._Element:
    found = node.xpath(xpath, namespaces=NS)
    assert len(found) == 1, f"{xpath}: {len(found)} matches"
    return found[0]


def bind(doc: etree._Element, path: str) -> etree._Element:
    return one(doc, f"/h:html/h:head/x:model/x:bind[@nodeset='{path}']")


def squash(expression: str | None) -> str:
    """An XPath expression with its white space folded to single spaces."""
    return " ".join((expression or "").split())


def field_binds(doc: etree._Element) -> list[tuple[str, etree._Element]]:
    """Every bind with its field's name (the last step of its nodeset), in document order."""
    binds = doc.xpath("/h:html/h:head/x:model/x:bind", namespaces=NS)
    return [(b.get("nodeset").rsplit("/", 1)[-1], b) for b in binds]


def ref_element(doc: etree._Element, path: str) -> etree._Element:
    """The first element whose ref is ``path``: its control, or a setvalue that comes before
    it (a default set when another question changes)."""
    return doc.xpath(f"//*[@ref='{path}']", namespaces=NS)[0]


def ref_tag(doc: etree._Element, path: str) -> str:
    """The local name of ``ref_element``: select1, select, upload, input, setvalue, …"""
    return etree.QName(ref_element(doc, path)).localname


def assert_csv_attachments(form: BuiltForm, doc: etree._Element, *names: str) -> None:
    """The form's media are the CSV files ``names`` (in order), each read by the secondary
    instance of its name."""
    assert form.media == tuple(f"{name}.csv" for name in names)
    for name in names:
        instance = one(doc, f"/h:html/h:head/x:model/x:instance[@id='{name}']")
        assert instance.get("src") == f"jr://file-csv/{name}.csv"


def registered_binds(doc: etree._Element) -> list[tuple[Field, etree._Element]]:
    """(registry field, bind) for each bind of a field of ``server.domain.fields``; fails on an
    A-coded name (a1_…, a27a_…) that the registry does not know."""
    found = []
    for name, b in field_binds(doc):
        if re.match(r"a\d", name):
            assert name in BY_NAME, name
        if name in BY_NAME:
            found.append((BY_NAME[name], b))
    return found


# ---------------------------------------------------------------------------------- choices


def list_items(doc: etree._Element, name: str) -> list[tuple[str, str]]:
    """The (name, label) items of the secondary instance ``name``: a choice list."""
    items = doc.xpath(f"/h:html/h:head/x:model/x:instance[@id='{name}']/x:root/x:item",
                      namespaces=NS)
    return [(i.findtext("x:name", namespaces=NS), i.findtext("x:label", namespaces=NS))
            for i in items]


def secondary_instances(doc: etree._Element) -> set[str]:
    """The ids of the form's secondary instances: its choice lists and CSV attachments."""
    return {i.get("id") for i in doc.xpath("/h:html/h:head/x:model/x:instance[@id]",
                                           namespaces=NS)}


def code_table(name: str) -> list[tuple[str, str]]:
    """codes.TABLES[name] as pyxform writes it: (code, label), “smart” quotes made straight
    (pyxform's clean_text_values does so in every cell)."""
    straight = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
    return [(c.code, c.label.translate(straight)) for c in TABLES[name].codes]


def assert_lists_are_code_tables(doc: etree._Element, names: Iterable[str]) -> None:
    """Each choice list named has the codes and labels of its code table, in its order."""
    for name in names:
        assert list_items(doc, name) == code_table(name), name


# ---------------------------------------------------------------------------------- XLSForm


def settings_header(xlsform: Path) -> list[str | None]:
    """The column names of the XLSForm's settings sheet."""
    return [c.value for c in load_workbook(xlsform)["settings"][1]]


def relabelled(xlsform: Path, name: str, label: str) -> bytes:
    """The XLSForm (.xlsx bytes) with the survey row ``name`` given the label ``label``."""
    workbook = load_workbook(xlsform)
    survey = workbook["survey"]
    header = [cell.value for cell in survey[1]]
    name_col, label_col = header.index("name"), header.index("label")
    row = next(r for r in survey.iter_rows(min_row=2) if r[name_col].value == name)
    row[label_col].value = label
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------- attachments

# The households entity list as the server serves it: the properties the household form saves.
HOUSEHOLDS_HEADER = (
    "name,label,__version,addr_county,addr_township,addr_village,addr_group,head_name,"
    "head_id_masked,household_size,phone,a1_resettlement_site,a3_monitoring_type,"
    "a4_formerly_poor,a28_wages,a29_business_income,a30_property_income,a31_transfer_income,"
    "a32_business_expenses,a35_insurance_claims,a36_compliant_out_of_pocket,a55_contact_name,"
    "a55_contact_phone,labour_capacity"
)
FIGURES_HEADER = "year,monitoring_line,elimination_floor,notice_days,year_used"
GROUPS = ("第一村民小组", "第二村民小组")


def csv_attachment(header: str, *rows: str) -> bytes:
    """A CSV attachment: the header and the rows, each ended by a newline, in UTF-8."""
    return "".join(f"{line}\n" for line in (header, *rows)).encode()


def areas_csv(village: str, groups: int = 1) -> bytes:
    """areas.csv: 衡阳县, 西渡镇, the village (洪罗庙社区) and its first ``groups`` 村民小组;
    codes as the village's prefixes (county 6 digits, township 9), groups 001, 002, …"""
    county, township = village[:6], village[:9]
    return csv_attachment(
        "name,label,level,parent",
        f"{county},衡阳县,county,",
        f"{township},西渡镇,township,{county}",
        f"{village},洪罗庙社区,village,{township}",
        *(f"{village}{n:03d},{label},group,{village}"
          for n, label in enumerate(GROUPS[:groups], start=1)),
    )


# ---------------------------------------------------------------------------------- engine


def fill_cases(form: BuiltForm, attachments: dict[str, bytes],
               cases: Mapping[str, list[tuple[str, object]]],
               media: dict[str, bytes] | None = None) -> dict[str, Outcome]:
    """Each named case's answers filled into the form in one engine batch: outcomes by name."""
    return fill_many([Job(case, form.xml, attachments, answers, media or {})
                      for case, answers in cases.items()])


def assert_valid(outcome: Outcome) -> None:
    assert outcome.exit_code == 0, outcome.report.get("answer_errors")
    assert outcome.valid, outcome.violations()

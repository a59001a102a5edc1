"""One field registry (issue 12 point 4; DESIGN "One registry of fields").

``server/domain/fields.py`` is the only module of server/, sync/ and media/ whose string literals
spell an A-code ("A34", "A39–A52") or an A-coded XLSForm name ("a28_wages"): every other module
takes the code, the name or a range from the registry. Docstrings and comments are prose and may
mention A-codes. The registry also agrees with the XLSForms of xlsforms/ (SPEC §2: the fields of
the forms) and with the code tables of ``codes.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from server.domain.codes import TABLES
from server.domain.fields import BY_CODE, BY_NAME, FIELDS, SELECT_KINDS, Field

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("server", "sync", "media")
REGISTRY = "server/domain/fields.py"
# The whitelist, each entry with its reason:
# - message templates of the error catalogue: it is being rewritten (moved into a catalogue
#   module) at the same time; a Chinese message may name the field of its rule as the source
#   documents do. Neither file spells an A-code in a string today.
MESSAGE_TEMPLATES = frozenset({"server/errors.py", "server/domain/catalogue.py"})
# - the ``note=`` of a code table in codes.py: English prose recording a slip of the source
#   ("the guide's item 47 is a second 'A50 社会帮扶'"), documentation kept beside its table.
NOTES = ("server/domain/codes.py", "note")

A_CODE = re.compile(r"(?<![A-Za-z0-9_])A\d{1,2}[a-z]?(?![0-9])")
A_CODED_NAME = re.compile(r"(?<![A-Za-z0-9_])a\d{1,2}[a-z]?_[a-z]")
FORMS = ("household", "measures", "elimination", "declaration")


def a_coded_strings(source: str, prose_keyword: str | None = None) -> list[tuple[int, str]]:
    """(line, text) of each string literal of ``source`` that spells an A-code or an A-coded
    field name; f-strings are read part by part. Docstrings are skipped, and so are the
    strings of a ``prose_keyword=`` argument."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                skipped.add(id(first.value))
        if prose_keyword and isinstance(node, ast.keyword) and node.arg == prose_keyword:
            skipped.update(id(inner) for inner in ast.walk(node.value))
    return sorted(
        (node.lineno, node.value) for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in skipped
        and (A_CODE.search(node.value) or A_CODED_NAME.search(node.value)))


def python_files() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for top in SCANNED
                  for path in (ROOT / top).rglob("*.py"))


def test_no_module_but_the_registry_spells_an_a_code():
    """Issue 12.4: outside fields.py (and the commented whitelist) no string literal of
    server/, sync/ or media/ holds an A-code or an A-coded field name."""
    found = []
    for name in python_files():
        if name == REGISTRY or name in MESSAGE_TEMPLATES:
            continue
        keyword = NOTES[1] if name == NOTES[0] else None
        source = (ROOT / name).read_text(encoding="utf-8")
        found += [f"{name}:{line}: {text!r}" for line, text in a_coded_strings(source, keyword)]
    assert not found, "A-codes spelled outside server/domain/fields.py:\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    'x = "A34"',
    'x = ("a", "A27a")',
    'x = f"至少应录入一项帮扶措施（A39–A52）{n}"',
    'x = {"a28_wages": 1}',
    'x = "members[2]/a7_id_number"',
    'def f():\n    """Doc."""\n    return "家庭人均纯收入（A34）"',
    '_table("t", "t", note="ok", title="A50")',
])
def test_the_scan_finds_a_spelled_code(source):
    """The scan of the test above sees codes in plain, f-string, key and message literals."""
    assert a_coded_strings(source, "note")


@pytest.mark.parametrize("source", [
    '"""A34 below the floor blocks (SPEC §6)."""',
    'def f():\n    """A39–A52 and effects."""\n    # A48 综合保障\n    return WAGES.name',
    'x = _table("t", "t", note="The guide\'s item 47 is a second \'A50 社会帮扶\'.")',
    'x = "SHA256", "A 编码", "a_code_key", "sha256_a1", "version_A1"',
])
def test_the_scan_leaves_prose_and_other_words_alone(source):
    """Docstrings, comments and the whitelisted notes are prose; words that merely contain a
    letter A and a digit are not A-codes."""
    assert a_coded_strings(source, "note") == []


def test_code_tables_take_name_code_and_title_from_their_field():
    """Issue 12.4: a code table of an A-coded field is that field's list, code and label."""
    for table in TABLES.values():
        if not table.field:
            continue
        owners = [f for f in BY_CODE[table.field] if f.table == table.name]
        assert len(owners) == 1, table.name
        assert table.title == owners[0].label, table.name


# ---------------------------------------------------------------------------- the XLSForms


def form_questions(form: str) -> dict[str, str]:
    """The ``survey`` sheet of xlsforms/<form>.xlsx: name -> type."""
    book = load_workbook(ROOT / "xlsforms" / f"{form}.xlsx", read_only=True)
    try:
        rows = list(book["survey"].iter_rows(values_only=True))
    finally:
        book.close()
    header = [str(cell or "").strip() for cell in rows[0]]
    name, kind = header.index("name"), header.index("type")
    return {str(row[name]).strip(): " ".join(str(row[kind] or "").split())
            for row in rows[1:] if row[name]}


@pytest.fixture(scope="module")
def questions() -> dict[str, dict[str, str]]:
    return {form: form_questions(form) for form in FORMS}


def home_form(field: Field) -> str:
    """The form that asks ``field`` (SPEC §2: collection, measures, elimination stages, and
    the self-declaration)."""
    if field.stage == 1:
        return "declaration" if field.name.startswith("decl_") else "household"
    return {2: "measures", 3: "elimination"}[field.stage]


def test_every_registered_field_is_a_question_of_its_form(questions):
    """SPEC §2 / xlsforms/README.md: a form uses the registry's names; each field is asked."""
    missing = [(f.name, home_form(f)) for f in FIELDS if f.name not in questions[home_form(f)]]
    assert not missing


def test_every_a_coded_question_is_registered(questions):
    """xlsforms/README.md: a form never invents a name for a field of the source sheet."""
    unknown = [(form, name) for form, names in questions.items() for name in names
               if re.match(r"a\d", name) and name not in BY_NAME]
    assert not unknown


def test_select_questions_use_the_fields_kind_and_code_table(questions):
    """SPEC §2: a select question of a registered field is of its kind, over its code table."""
    wrong = []
    for form, names in questions.items():
        for name, kind in names.items():
            field = BY_NAME.get(name)
            parts = kind.split()
            if field is None or parts[0] not in {k.value for k in SELECT_KINDS}:
                continue
            if parts != [field.kind.value, field.table]:
                wrong.append((form, name, kind))
    assert not wrong

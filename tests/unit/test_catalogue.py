"""The one catalogue of codes (issue 12.3, DESIGN "One error catalogue"): every code the source
raises, returns or stores is an entry, and every entry's message template is well formed and
fed the values it names wherever the source says them."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import server.api  # noqa: F401 - imports every package, so every CatalogueError subclass
import server.backup  # noqa: F401 - the backup commands' refusals (BackupError)
import sync.api  # noqa: F401
from media.images import IMAGE_INVALID, IMAGE_TOO_LARGE
from server.domain.catalogue import (
    CATALOGUE,
    CatalogueError,
    Category,
    Message,
    detail,
    placeholders,
    render,
)
from server.domain.dedup import ConflictKind
from server.errors import AppError

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [path for folder in ("server", "sync", "media") for path in
           sorted((ROOT / folder).rglob("*.py"))]
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
HAN = re.compile(r"[\u4e00-\u9fff]")

# Calls whose first argument is a catalogue code with the message's values as keywords.
CODE_FIRST = {"AppError", "CatalogueError", "Message", "NotAnImage", "unreadable"}
# Calls whose second argument is a code and fourth (``params``) its values as a dict.
CODE_SECOND = {"Problem", "Finding"}


def _subclasses(kind: type) -> set[type]:
    found = set(kind.__subclasses__())
    return found.union(*(_subclasses(k) for k in found))


CODE_FIRST |= {kind.__name__ for kind in _subclasses(CatalogueError)}


def _called(node: ast.Call) -> str:
    return (node.func.id if isinstance(node.func, ast.Name)
            else node.func.attr if isinstance(node.func, ast.Attribute) else "")


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _uses() -> list[tuple[str, str, set[str] | None]]:
    """(where, code, the value names given or None when they cannot be told) of every call
    that names a code literally, and every code a function returns literally."""
    uses = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Return) and CODE.match(_literal(node.value) or ""):
                uses.append((where, _literal(node.value), None))
            if not isinstance(node, ast.Call):
                continue
            name = _called(node)
            if name in CODE_FIRST and node.args and (code := _literal(node.args[0])):
                keywords = {k.arg for k in node.keywords}
                uses.append((where, code, None if None in keywords else keywords - {"also"}))
            elif name in CODE_SECOND and len(node.args) > 1 and (code := _literal(node.args[1])):
                params = node.args[3] if len(node.args) > 3 else None
                given = (set() if params is None else
                         {_literal(k) for k in params.keys}
                         if isinstance(params, ast.Dict) and None not in params.keys else None)
                uses.append((where, code, given))
    return uses


USES = _uses()


def test_the_scan_finds_the_codes_of_every_kind_of_call():
    found = {code for _, code, _ in USES}
    assert {"AUTH_REQUIRED", "STEP_ROLE", "ID_CHECKSUM", "FIELD_REQUIRED", "HOUSEHOLD_UNKNOWN",
            "NUMBER_SCIENTIFIC", "LIST_EMPTY", "TAKE_IN_FAILED"} <= found
    assert len(found) > 100


@pytest.mark.parametrize(("where", "code", "given"), USES, ids=[u[0] for u in USES])
def test_every_code_the_source_names_is_catalogued_with_the_values_it_names(where, code,
                                                                            given):
    assert code in CATALOGUE, f"{where}: {code} is not in server/domain/catalogue.py"
    if given is not None:
        missing = CATALOGUE[code].placeholders - given
        assert not missing, f"{where}: {code} names {sorted(missing)}, not given there"


def test_the_codes_made_or_named_outside_a_call_are_catalogued():
    """A held submission's problem is CONFLICT_<kind>; the media package names its reasons."""
    for kind in ConflictKind:
        assert f"CONFLICT_{kind.value.upper()}" in CATALOGUE
    assert {IMAGE_INVALID, IMAGE_TOO_LARGE} <= set(CATALOGUE)


def test_every_entry_is_used_somewhere():
    """No dead entry: each code appears in the source outside the catalogue itself."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES
                     if path.name != "catalogue.py")
    made = {f"CONFLICT_{kind.value.upper()}" for kind in ConflictKind}
    unused = [code for code in CATALOGUE if code not in made and f'"{code}"' not in text]
    assert unused == []


@pytest.mark.parametrize("code", list(CATALOGUE))
def test_each_template_is_well_formed_chinese_with_named_values_only(code):
    kind = CATALOGUE[code]
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*[A-Z0-9]", code)
    assert isinstance(kind.category, Category)
    assert 400 <= kind.status <= 599
    assert HAN.search(kind.message), "the message is for people: in Chinese"
    for _, name, spec, conversion in string.Formatter().parse(kind.message):
        if name is not None:
            assert name.isidentifier(), f"{code}: {{{name}}} is not a plain name"
            assert not spec and not conversion, f"{code}: {{{name}}} has a format"
    values = {name: f"<{name}>" for name in kind.placeholders}
    text = render(code, values)
    assert all(f"<{name}>" in text for name in kind.placeholders)


def test_a_code_outside_the_catalogue_is_refused():
    with pytest.raises(KeyError):
        AppError("NOT_A_CODE")
    with pytest.raises(KeyError):
        Message("NOT_A_CODE")


def test_a_nested_reason_is_words_in_the_message_and_a_code_in_the_details():
    reason = Message("NUMBER_PLACES", places=2, given=3)
    error = AppError("FIELD_INVALID", value="12.345", reason=reason)

    assert error.details() == {"value": "12.345", "reason": "NUMBER_PLACES"}
    assert reason.text in error.message and error.status == 422
    assert placeholders(CATALOGUE["FIELD_INVALID"].message) == {"value", "reason"}


def test_further_findings_are_named_too():
    error = AppError("ELIMINATION_BELOW_FLOOR", a34="4000.00", floor="5000.00",
                     also=[Message("ELIMINATION_NOT_FOR_NOW")])

    assert error.details()["also"] == "ELIMINATION_NOT_FOR_NOW"
    assert Message("ELIMINATION_NOT_FOR_NOW").text in error.message
    assert detail([Message("LIST_EMPTY"), Message("LIST_CSV_NUL")]) == "LIST_EMPTY LIST_CSV_NUL"


def test_a_domain_refusal_becomes_the_same_http_refusal():
    domain = CatalogueError("NOTICE_NOT_FINISHED", days=7, ends_on="2026-06-09")

    error = AppError.of(domain)

    assert (error.code, error.params, error.message, error.status) == (
        domain.code, domain.params, domain.message, 409)

"""Parse a submitted instance safely into an envelope.

Submissions come from phones we do not control. The XML is parsed by libxml2 (lxml) with
entities never substituted, no DTD loaded and nothing fetched, and a document that has a DTD
at all (``<!DOCTYPE``, which is where entities would be declared) is then refused, so entities
are never declared, let alone expanded. libxml2's own limits (depth, text size) stay on.
The bytes must be UTF-8, as Collect sends them: the XML is stored as text. A declaration of
another encoding (``encoding="GBK"``) is refused too: libxml2 would read the UTF-8 bytes in the
declared encoding, and store mojibake.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree
from lxml.etree import _Element as Element

from server.domain.catalogue import CatalogueError, Message
from server.domain.files import shown_name

INSTANCE_ID_LIMIT = 100  # characters (the column's length)
_parsers = threading.local()
# The XML declaration's encoding (XML 1.0 §4.3.3), after an optional UTF-8 byte-order mark.
_DECLARED_ENCODING = re.compile(
    rb"""\A(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([^"'>]{0,64})\1""")
UTF8_NAMES = frozenset({"utf-8", "utf8"})


def _parser() -> etree.XMLParser:
    """This thread's parser: an lxml parser serializes the threads that share it (a lock)."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = etree.XMLParser(
            resolve_entities=False, load_dtd=False, no_network=True, remove_comments=True,
            remove_pis=True, huge_tree=False)
    return parser


class InstanceError(CatalogueError):
    """The XML cannot be accepted: its catalogue code and values (``detail``: the parser's
    own words, or the catalogue's reason)."""


@dataclass(frozen=True)
class Envelope:
    form_id: str
    version: str
    instance_id: str
    root: Element


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def declared_encoding(xml: bytes) -> str | None:
    """The encoding the XML declaration names, if it names one."""
    found = _DECLARED_ENCODING.match(xml)
    return found.group(2).decode("utf-8", "replace") if found else None


def parse(xml: bytes) -> Envelope:
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InstanceError("XML_MALFORMED",
                            detail=Message("XML_NOT_UTF8", detail=exc.reason)) from exc
    encoding = declared_encoding(xml)
    if encoding is not None and encoding.strip().lower() not in UTF8_NAMES:
        raise InstanceError("XML_ENCODING_UNSUPPORTED", encoding=shown_name(encoding))
    try:
        root = etree.fromstring(xml, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InstanceError("XML_MALFORMED", detail=str(exc)) from exc
    if root.getroottree().docinfo.doctype:
        raise InstanceError("XML_FORBIDDEN", detail="DOCTYPE")
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise InstanceError("XML_NO_FORM_ID")
    instance_id = ""
    for child in root:
        if local(child.tag) == "meta":
            for item in child:
                if local(item.tag) == "instanceID":
                    instance_id = (item.text or "").strip()
    if not instance_id:
        raise InstanceError("XML_NO_INSTANCE_ID")
    if len(instance_id) > INSTANCE_ID_LIMIT:
        raise InstanceError("XML_MALFORMED",
                            detail=Message("INSTANCE_ID_TOO_LONG", limit=INSTANCE_ID_LIMIT))
    return Envelope(form_id, (root.get("version") or "").strip(), instance_id, root)


@functools.lru_cache(maxsize=64)
def _steps(binary_paths: tuple[str, ...]) -> dict:
    """The paths merged into a tree of steps (made once per form version's paths; read only)."""
    steps: dict = {}
    for path in binary_paths:
        branch = steps
        for step in [step for step in path.split("/") if step][1:]:
            branch = branch.setdefault(step, {})
        branch[None] = path  # a question's path ends here
    return steps


def named_files(root: Element, binary_paths: Iterable[str]) -> dict[str, str]:
    """File name → the path of the question it answers, for every file the instance names.

    One walk of the tree for all paths (this runs on every submission): the paths are merged
    into a tree of steps, and only matching children are visited. A name given twice keeps
    the first question that names it, in document order.
    """
    steps = _steps(tuple(binary_paths))
    files: dict[str, str] = {}

    def walk(node: Element, branch: dict) -> None:
        for child in node:
            tag = child.tag  # (``local`` inlined: this runs for every element of the form)
            below = branch.get(tag[tag.rfind("}") + 1:] if tag[0] == "{" else tag)
            if below is None:
                continue
            if None in below and child.text and child.text.strip():
                files.setdefault(child.text.strip(), below[None])
            if any(step is not None for step in below):  # deeper questions under this one
                walk(child, below)

    walk(root, steps)
    return files


@dataclass(frozen=True)
class InstanceValues:
    """A filled form's answers by field name: household-level ones, and one dict per member."""

    household: dict[str, str]
    members: list[dict[str, str]]
    entity_id: str | None  # meta/entity/@id when the form creates or updates an entity


def instance_values(root: Element, repeat: str = "members") -> InstanceValues:
    """Answers by their field names wherever groups put them, so any form version reads alike.

    Leaves inside a ``repeat`` element go to that member's dict; other leaves (outside ``meta``)
    to the household's; the first occurrence of a name wins.
    """
    household: dict[str, str] = {}
    members: list[dict[str, str]] = []
    entity_ids: list[str] = []

    def walk(node: Element, target: dict[str, str]) -> None:
        for child in node:  # (``local`` inlined: this runs for every element the worker reads)
            tag = child.tag
            name = tag[tag.rfind("}") + 1:] if tag[0] == "{" else tag
            if name == "meta":
                entity_ids.extend(item.get("id", "") for item in child
                                  if local(item.tag) == "entity" and item.get("id"))
                continue
            if name == repeat and target is household:
                member: dict[str, str] = {}
                members.append(member)
                walk(child, member)
            elif len(child):
                walk(child, target)
            elif name not in target:
                text = child.text
                target[name] = text.strip() if text else ""

    walk(root, household)
    return InstanceValues(household, members, entity_ids[0] if entity_ids else None)


def corrected(values: InstanceValues, corrections: dict[str, str]) -> InstanceValues:
    """A supervisor's corrections over the phone's answers (``members[n]/field`` or ``field``),
    made in ``values`` (which is returned)."""
    for key, value in corrections.items():
        if key.startswith("members["):
            index, name = key.removeprefix("members[").split("]/", 1)
            while len(values.members) < int(index):
                values.members.append({})
            values.members[int(index) - 1][name] = value
        else:
            values.household[key] = value
    return values

"""XLSForm → XForm with pyxform, versioned by content.

The version of a form is not typed by whoever edits the spreadsheet: it is derived from the
XForm that pyxform produces (with the version attribute blanked), so any change that reaches the
phone is a new version and an unchanged form keeps its version however often it is rebuilt.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pyxform.xls2xform import convert

XFORMS_NS = "http://www.w3.org/2002/xforms"
HTML_NS = "http://www.w3.org/1999/xhtml"
JR_NS = "http://openrosa.org/javarosa"
NS = {"h": HTML_NS, "x": XFORMS_NS, "jr": JR_NS}

# pyxform names the media a form reads as jr://file/…, jr://file-csv/…, jr://images/… and so on.
_MEDIA_SRC = re.compile(r"jr://(?:file|file-csv|images|audio|video)/([^\"'\s<>]+)")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


class FormBuildError(ValueError):
    """The XLSForm could not be turned into an XForm."""


@dataclass(frozen=True)
class BinaryField:
    """A question whose answer is a file (photo, signature, audio…): its path and media type."""

    path: str  # absolute instance path, e.g. /data/members/photo
    mediatype: str  # e.g. image/*; "" when the form does not say

    @property
    def is_image(self) -> bool:
        return self.mediatype.startswith("image/")


@dataclass(frozen=True)
class BuiltForm:
    form_id: str
    title: str
    version: str
    xml: bytes  # the exact bytes served to phones
    media: tuple[str, ...]  # file names of the form attachments the XForm reads
    binary_fields: tuple[BinaryField, ...]
    warnings: tuple[str, ...]

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml).hexdigest()


def build_xform(xlsform: Path | str | bytes, validate: bool = False) -> BuiltForm:
    """Convert one XLSForm (a path or the bytes of an .xlsx) and give it its content version.

    ``validate=True`` also loads the XForm in JavaRosa, the engine of ODK Collect, through the
    ODK Validate jar that pyxform ships (needs Java): a function Collect lacks, a bad XPath or a
    cycle is then a FormBuildError.
    """
    warnings: list[str] = []
    source = Path(xlsform) if isinstance(xlsform, str) else xlsform
    kwargs = {"file_type": ".xlsx"} if isinstance(source, bytes) else {}
    try:
        result = convert(xlsform=source, warnings=warnings, pretty_print=True,
                         validate=validate, **kwargs)
    except Exception as exc:  # pyxform raises several types; all mean "this form is broken"
        raise FormBuildError(str(exc)) from exc
    doc = etree.fromstring(result.xform.encode("utf-8"), parser=_PARSER)
    root = doc.find("h:head/x:model/x:instance/*", NS)
    if root is None or not root.get("id"):
        raise FormBuildError("XForm has no primary instance with an id")
    root.set("version", "")
    version = hashlib.sha256(_serialize(doc)).hexdigest()[:12]
    root.set("version", version)
    return _describe(doc, root, _serialize(doc), version, tuple(warnings))


def _serialize(doc: etree._Element) -> bytes:
    return etree.tostring(doc, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _describe(
    doc: etree._Element, root: etree._Element, xml: bytes, version: str, warnings: tuple[str, ...]
) -> BuiltForm:
    title = doc.findtext("h:head/h:title", default=root.get("id"), namespaces=NS)
    uploads = {u.get("ref"): u.get("mediatype", "") for u in doc.iter(f"{{{XFORMS_NS}}}upload")}
    binary = tuple(
        BinaryField(path=b.get("nodeset"), mediatype=uploads.get(b.get("nodeset"), ""))
        for b in doc.iter(f"{{{XFORMS_NS}}}bind")
        if b.get("type") == "binary"
    )
    media = tuple(sorted(set(_MEDIA_SRC.findall(xml.decode("utf-8")))))
    return BuiltForm(
        form_id=root.get("id"),
        title=title,
        version=version,
        xml=xml,
        media=media,
        binary_fields=binary,
        warnings=warnings,
    )

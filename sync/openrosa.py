"""The only module that writes OpenRosa XML: formList, manifest and OpenRosaResponse.

Specs: docs.getodk.org/openrosa-form-list, openrosa-form-submission, openrosa-http.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

OPENROSA_VERSION = "1.0"
XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class FormListEntry:
    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None  # only for forms that have media


@dataclass(frozen=True)
class MediaFile:
    filename: str
    md5: str
    download_url: str
    entity_list: bool = False  # an ODK Entities list, marked type="entityList" as Central does


def _el(parent, ns: str, tag: str, text: str | None = None, **attrs: str):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _bytes(root) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def form_list(entries: Iterable[FormListEntry]) -> bytes:
    root = etree.Element(f"{{{XFORMS_LIST_NS}}}xforms", nsmap={None: XFORMS_LIST_NS})
    for entry in entries:
        xform = _el(root, XFORMS_LIST_NS, "xform")
        _el(xform, XFORMS_LIST_NS, "formID", entry.form_id)
        _el(xform, XFORMS_LIST_NS, "name", entry.name)
        _el(xform, XFORMS_LIST_NS, "version", entry.version)
        _el(xform, XFORMS_LIST_NS, "hash", f"md5:{entry.md5}")
        _el(xform, XFORMS_LIST_NS, "downloadUrl", entry.download_url)
        if entry.manifest_url:
            _el(xform, XFORMS_LIST_NS, "manifestUrl", entry.manifest_url)
    return _bytes(root)


def manifest(files: Iterable[MediaFile]) -> bytes:
    root = etree.Element(f"{{{MANIFEST_NS}}}manifest", nsmap={None: MANIFEST_NS})
    for media in files:
        attrs = {"type": "entityList"} if media.entity_list else {}
        element = _el(root, MANIFEST_NS, "mediaFile", **attrs)
        _el(element, MANIFEST_NS, "filename", media.filename)
        _el(element, MANIFEST_NS, "hash", f"md5:{media.md5}")
        _el(element, MANIFEST_NS, "downloadUrl", media.download_url)
    return _bytes(root)


def response(message: str, nature: str = "") -> bytes:
    """An ``OpenRosaResponse``; Collect shows ``message`` to the helper."""
    root = etree.Element(f"{{{RESPONSE_NS}}}OpenRosaResponse", nsmap={None: RESPONSE_NS})
    _el(root, RESPONSE_NS, "message", message, **({"nature": nature} if nature else {}))
    return _bytes(root)

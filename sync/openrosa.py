"""The only module that writes OpenRosa XML: formList, manifest and OpenRosaResponse.

Specs: docs.getodk.org/openrosa-form-list, openrosa-form-submission, openrosa-http.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
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


# Characters XML 1.0 cannot carry at all (§2.2), escaped or not: lxml refuses them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` as XML can carry it: a character it cannot (NUL, ESC …, from whatever a client
    sent) is written as an escape (``\\x00``). Markup (``<``, ``&``) is the builder's to
    escape: every element and attribute here is built by lxml, never by formatting strings."""
    return _NOT_XML.sub(lambda found: f"\\x{ord(found[0]):02x}" if ord(found[0]) < 0x100
                        else f"\\u{ord(found[0]):04x}", text)


def _el(parent, ns: str, tag: str, text: str | None = None, **attrs: str):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}",
                               {name: xml_text(value) for name, value in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
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


# --- what the helper hears after sending a submission ---------------------------------------

SHOWN_PROBLEMS = 3  # problems listed in the message; the rest are counted


def submission_message(state: str | None, problems: Sequence[Mapping] = (), *,
                       again: bool = False) -> str:
    """The message Collect shows the helper for an accepted (201) submission.

    Pure: a submission state (``server.submissions.models.SubmissionState`` values) and its
    problem list (``{"severity", "message", …}``, as take-in stores them). Collect cannot edit a
    sent form, so the answer stays 201 whatever the server found, and the message says what
    became of it: ``applied`` (or a form the registry does not take in) is 提交成功; ``invalid``
    says it was received with problems, listing the first ``SHOWN_PROBLEMS`` errors (the rules
    that made it invalid; warnings only when there is no error) and how many more, so the helper
    can check them with the household on the spot and have a reviewer correct them; ``held``
    says it awaits a reviewer (审核) and lists its conflicts the same way; ``received`` (not
    taken in yet: the queue mode, or a take-in that failed and will be retried) says it is
    being checked. ``again``: the same
    instanceID had been received before.
    """
    head = "该提交此前已接收" if again else "已收到"
    if state in ("applied", "ignored"):
        return "该提交此前已成功接收" if again else "提交成功"
    errors = [p for p in problems if p.get("severity") == "error"] or list(problems)
    listed = "；".join(f"{n}. {p.get('message', '')}"
                      for n, p in enumerate(errors[:SHOWN_PROBLEMS], start=1))
    more = len(errors) - SHOWN_PROBLEMS
    listed += f"；另有{more}个问题" if more > 0 else ""
    if state == "invalid":
        return (f"{head}，但服务器检查发现{len(errors)}个问题，需由审核人员更正"
                f"（请当场向农户核实）：{listed}")
    if state == "held":
        # the conflicts (a person registered elsewhere, an address outside the area …)
        return (f"{head}，与已登记的信息有冲突，等待审核人员审核处理"
                + (f"：{listed}" if errors else ""))
    if state == "rejected":
        return f"{head}，已被审核人员驳回"
    return f"{head}，正在检查"

"""server.submissions.instance: the envelope of a submitted instance, parsed without trusting it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.submissions.instance import InstanceError, named_files, parse

INSTANCE = b"""<?xml version='1.0' encoding='UTF-8' ?>
<data xmlns:orx="http://openrosa.org/xforms" id="household" version="abc">
  <members><photo>a.jpg</photo></members>
  <members><photo>b.jpg</photo></members>
  <members><photo/></members>
  <sig>s.png</sig>
  <orx:meta><orx:instanceID>uuid:1</orx:instanceID></orx:meta>
</data>"""


def test_the_envelope_names_form_version_and_instance():
    envelope = parse(INSTANCE)

    assert (envelope.form_id, envelope.version, envelope.instance_id) == (
        "household", "abc", "uuid:1")


def test_files_are_found_across_repeats_and_empty_answers_skipped():
    root = parse(INSTANCE).root

    assert named_files(root, ["/data/members/photo", "/data/sig"]) == {
        "a.jpg": "/data/members/photo", "b.jpg": "/data/members/photo", "s.png": "/data/sig"}


def test_files_are_found_under_a_default_namespace_and_with_the_paths_given_again():
    """An element's namespace is not part of a question's path; the paths' tree is made once
    per set of paths and read, never changed, by later calls."""
    root = parse(b'<data xmlns="http://example.org/ns" id="f"><g><photo>p.jpg</photo></g>'
                 b'<sig>s.png</sig><meta><instanceID>uuid:2</instanceID></meta></data>').root
    paths = ("/data/g/photo", "/data/sig")

    first = named_files(root, paths)
    again = named_files(root, list(paths))

    assert first == again == {"p.jpg": "/data/g/photo", "s.png": "/data/sig"}
    assert named_files(root, ["/data/sig"]) == {"s.png": "/data/sig"}


def test_a_doctype_is_refused_even_without_entities():
    with pytest.raises(InstanceError) as error:
        parse(b'<!DOCTYPE data SYSTEM "http://evil.example/x.dtd"><data id="f"/>')
    assert error.value.code == "XML_FORBIDDEN"


@pytest.mark.parametrize(("xml", "reason"), [
    ("<?xml version='1.0' encoding='GB18030'?><data id='f'>户</data>".encode("gb18030"),
     "XML_NOT_UTF8"),
    (b"<data id='f'><meta><instanceID>uuid:" + b"0" * 100 + b"</instanceID></meta></data>",
     "INSTANCE_ID_TOO_LONG"),
])
def test_malformed_xml_names_its_reason(xml, reason):
    """The refusal's reason is a catalogue code (its Chinese words are the catalogue's)."""
    with pytest.raises(InstanceError) as error:
        parse(xml)
    assert (error.value.code, error.value.details()["detail"]) == ("XML_MALFORMED", reason)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_but_instance_error(data):
    """Bad input gets a clear error: whatever arrives, the parser answers with a catalogue code."""
    try:
        parse(data)
    except InstanceError as error:
        assert error.code in {"XML_MALFORMED", "XML_FORBIDDEN", "XML_NO_FORM_ID",
                              "XML_NO_INSTANCE_ID", "XML_ENCODING_UNSUPPORTED"}


@pytest.mark.parametrize("declaration", [
    b"<?xml version='1.0' encoding='GBK'?>",
    b'<?xml version="1.0" encoding="gb2312" standalone="yes"?>',
    b"\xef\xbb\xbf<?xml version='1.0' encoding = 'latin1' ?>",
    b"<?xml version='1.0' encoding='UTF-16'?>",
])
def test_a_declared_encoding_other_than_utf8_is_refused(declaration):
    """Issue 15.6: UTF-8 bytes declared as GBK would be read as mojibake by libxml2."""
    with pytest.raises(InstanceError) as error:
        parse(declaration + "<data id='f'>户<meta><instanceID>uuid:1</instanceID></meta>"
              "</data>".encode())
    assert error.value.code == "XML_ENCODING_UNSUPPORTED"


@pytest.mark.parametrize("declaration", [
    b"<?xml version='1.0' encoding='UTF-8'?>", b"<?xml version='1.0' encoding='utf8'?>",
    b'<?xml version="1.0" encoding="Utf-8"?>', b"<?xml version='1.0'?>", b"",
])
def test_utf8_in_any_spelling_or_undeclared_is_read_as_utf8(declaration):
    envelope = parse(declaration + "<data id='f'><name>户主</name><meta><instanceID>uuid:1"
                     "</instanceID></meta></data>".encode())
    assert envelope.root.findtext("name") == "户主"


# --- instance_values: the answers by field name --------------------------------------------------

def _values_by_the_rule(root) -> tuple[dict, list, str | None]:
    """instance_values's docstring as plain code: leaves in a ``members`` element (not nested in
    another) go to that member, other leaves outside ``meta`` to the household; the first
    occurrence of a name wins; meta/entity/@id is the entity."""
    household, members, entities = {}, [], []

    def name(element) -> str:
        return element.tag.split("}")[-1]

    def walk(node, target, in_member):
        for child in node:
            if name(child) == "meta":
                entities.extend(e.get("id") for e in child if name(e) == "entity" and e.get("id"))
            elif name(child) == "members" and not in_member:
                members.append({})
                walk(child, members[-1], True)
            elif len(child):
                walk(child, target, in_member)
            elif name(child) not in target:
                target[name(child)] = (child.text or "").strip()

    walk(root, household, False)
    return household, members, entities[0] if entities else None


_NAMES = st.sampled_from(["a1", "a2", "b", "members", "grp", "{urn:x}a1", "{urn:x}grp"])
_TEXT = st.sampled_from(["", " ", "1", " x ", "中文"]) | st.none()
_TREE = st.recursive(
    st.tuples(_NAMES, _TEXT, st.just([])),
    lambda inner: st.tuples(_NAMES, _TEXT, st.lists(inner, max_size=4)), max_leaves=20)


def _element(tree, parent=None):
    from lxml import etree

    tag, text, children = tree
    element = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
    element.text = text
    for child in children:
        _element(child, element)
    return element


@given(st.lists(_TREE, max_size=5), st.sampled_from([None, "", "uuid:e1"]))
def test_answers_are_read_by_field_name_as_the_rule_says(trees, entity):
    from lxml import etree

    from server.submissions.instance import instance_values

    root = etree.Element("data")
    for tree in trees:
        _element(tree, root)
    if entity is not None:
        meta = etree.SubElement(root, "{http://openrosa.org/xforms}meta")
        etree.SubElement(meta, "{http://openrosa.org/xforms}entity", id=entity)
    values = instance_values(root)
    assert (values.household, values.members, values.entity_id) == _values_by_the_rule(root)

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
                              "XML_NO_INSTANCE_ID"}

"""Uploaded files' names and kinds (server.domain.files) and the download headers made of the
names (server.rest.filename_parameters, RFC 6266): whatever a device sends as a file name, the
name kept is a plain file name and its Content-Disposition header is valid."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import Headers

from server.domain.catalogue import CatalogueError
from server.domain.files import (
    MAX_NAME,
    check_attachment_name,
    clean_filename,
    is_pdf,
    shown_name,
)
from server.rest import filename_parameters


def test_a_name_keeps_only_the_files_own_name():
    assert clean_filename("C:\\fakepath\\公示照片.jpg", "附件") == "公示照片.jpg"
    assert clean_filename("../../etc/评议会议记录.pdf", "附件") == "评议会议记录.pdf"
    assert clean_filename("附件3\r\n（盖章）.pdf", "附件") == "附件3  （盖章）.pdf"
    assert clean_filename("\u202egpj.exe", "附件") == "gpj.exe"  # no right-to-left override
    assert clean_filename(" \x00 ", "附件") == clean_filename(None, "附件") == "附件"
    assert clean_filename("记" * 300 + ".pdf", "附件") == "记" * 251 + ".pdf"


def test_a_pdf_is_known_by_its_header_not_its_name():
    assert is_pdf(b"%PDF-1.7\n") and is_pdf(b"%PDF-")
    assert not is_pdf(b"MZ\x90\x00") and not is_pdf(b" %PDF-1.7") and not is_pdf(b"%PDF")


@given(st.text(max_size=400))
def test_any_name_becomes_a_plain_bounded_file_name(sent):
    name = clean_filename(sent, "附件")

    assert 0 < len(name) <= MAX_NAME and name == name.strip()
    assert "/" not in name and "\\" not in name
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name)


@given(st.text(max_size=400))
def test_any_kept_name_makes_a_valid_content_disposition(sent):
    name = clean_filename(sent, "附件")
    parameters = filename_parameters(name)
    headers = Headers()

    headers.set("Content-Disposition", "attachment", **parameters)  # raises on a bad value

    value = headers["Content-Disposition"]
    value.encode("latin-1")  # HTTP/1.1 header bytes
    assert "\r" not in value and "\n" not in value
    assert parameters["filename"].isascii()
    if "filename*" in parameters:
        assert unquote(parameters["filename*"].removeprefix("UTF-8''")) == name
    else:
        assert parameters["filename"] == name


@pytest.mark.parametrize("name", ["a/b.jpg", "C:\\fakepath\\b.jpg", "b\x00.jpg", "b\x07.jpg",
                                  "b\n.jpg", "\x1b[31m.jpg", "b\x7f.jpg", "b\x85.jpg", ""])
def test_an_attachment_name_with_a_folder_or_control_character_is_refused(name):
    """Issue 15.6: a submission's file part keeps its name, which must be a plain name."""
    with pytest.raises(CatalogueError) as error:
        check_attachment_name(name)
    assert error.value.code == "ATTACHMENT_NAME_INVALID"
    assert all(unicodedata.category(c) != "Cc" for c in error.value.message)


@pytest.mark.parametrize("name", ["1712345678901.jpg", "房屋 照片.jpg", "a..b.png", "签名.PNG"])
def test_a_plain_attachment_name_is_kept_as_sent(name):
    assert check_attachment_name(name) == name


def test_a_name_is_shown_with_its_control_characters_escaped():
    assert shown_name("ho\x00use\x1b.jpg") == "ho\\x00use\\x1b.jpg"

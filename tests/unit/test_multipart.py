"""server.multipart: werkzeug's multipart decoder with the boundary found by ``bytes.find``
instead of two patterns compiled per request. It must answer exactly what werkzeug's compiled
patterns answer, and parse every body as werkzeug's own decoder does."""

from __future__ import annotations

import io
import re

import pytest
import werkzeug.formparser
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import LINE_BREAK, MultipartDecoder

from server import create_app
from server.multipart import BoundarySearch, Decoder

# Few symbols, so that boundaries, dashes, spaces and every kind of line break meet often.
SYMBOLS = b"-ab \t\r\n"


def _werkzeug_pattern(boundary: bytes, optional: bool) -> re.Pattern:
    """werkzeug's own (sansio/multipart.py, MultipartDecoder.__init__)."""
    return re.compile(rb"%s%s--%s(--[^\S\n\r]*%s?|[^\S\n\r]*%s)" % (
        LINE_BREAK, b"?" if optional else b"", re.escape(boundary), LINE_BREAK, LINE_BREAK),
        re.MULTILINE)


def _found(match) -> tuple | None:
    return None if match is None else (match.start(), match.end(), match.group(1))


@given(boundary=st.binary(min_size=1, max_size=4).map(
           lambda raw: bytes(SYMBOLS[b % len(SYMBOLS)] for b in raw)),
       buffer=st.lists(st.sampled_from([b"-", b"a", b"b", b" ", b"\t", b"\r", b"\n", b"--",
                                        b"\r\n"]), max_size=40).map(b"".join),
       optional=st.booleans(), data=st.data())
def test_the_search_finds_what_werkzeugs_pattern_finds(boundary, buffer, optional, data):
    """Leftmost start, end and trailing group, from any position, in bytes and bytearrays."""
    if data.draw(st.booleans()):  # the boundary itself, often, where it is rare by chance
        cut = data.draw(st.integers(0, len(buffer)))
        buffer = buffer[:cut] + data.draw(st.sampled_from([b"\r\n", b"\n", b"\r", b""])) \
            + b"--" + boundary + buffer[cut:]
    pos = data.draw(st.integers(0, len(buffer)))
    expected = _werkzeug_pattern(boundary, optional)
    ours = BoundarySearch(boundary, line_break_optional=optional)

    assert _found(ours.search(buffer, pos)) == _found(expected.search(buffer, pos))
    assert _found(ours.search(bytearray(buffer), pos)) == _found(expected.search(buffer, pos))


def _body(boundary: bytes, parts: list[tuple[str, str | None, bytes]], break_=b"\r\n") -> bytes:
    out = [b"preamble" + break_] if parts and len(parts) % 2 else []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"'
                                                     if filename else "")
        out.append(b"--" + boundary + break_ + b"Content-Disposition: " + disposition.encode()
                   + break_ + break_ + content + break_)
    out.append(b"--" + boundary + b"--" + break_)
    return b"".join(out)


def _parse(decoder: type, body: bytes, boundary: bytes, buffer_size: int):
    original = werkzeug.formparser.MultipartDecoder
    werkzeug.formparser.MultipartDecoder = decoder
    try:
        parser = werkzeug.formparser.MultiPartParser(buffer_size=buffer_size,
                                                     max_form_memory_size=4096)
        form, files = parser.parse(io.BytesIO(body), boundary, len(body))
        return ([(k, v) for k, v in form.items(multi=True)],
                [(k, f.filename, f.read()) for k, f in files.items(multi=True)])
    except (ValueError, RequestEntityTooLarge) as error:
        return type(error).__name__
    finally:
        werkzeug.formparser.MultipartDecoder = original


@given(boundary=st.text("abcXYZ019'()+_,-./:=?", min_size=1, max_size=70).map(str.encode),
       parts=st.lists(st.tuples(st.sampled_from(["xml_submission_file", "a.jpg", "f"]),
                                st.one_of(st.none(), st.sampled_from(["a.xml", "1.jpg"])),
                                st.binary(max_size=300)), max_size=4),
       line_break=st.sampled_from([b"\r\n", b"\n"]),
       buffer_size=st.sampled_from([64, 1024, 64 * 1024]))
def test_bodies_parse_as_with_werkzeugs_decoder(boundary, parts, line_break, buffer_size):
    """Whole bodies, in chunks of any size (a part's content may hold dashes and line
    breaks): the same fields and files, or the same error."""
    body = _body(boundary, parts, line_break)
    assert _parse(Decoder, body, boundary, buffer_size) == \
        _parse(MultipartDecoder, body, boundary, buffer_size)


@pytest.mark.parametrize("body", [
    b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nno end",  # never closed
    b"no boundary at all",
    b"--b--\r\n",  # empty
])
def test_broken_bodies_end_as_with_werkzeugs_decoder(body):
    for size in (4, 1024):
        assert _parse(Decoder, body, b"b", size) == _parse(MultipartDecoder, body, b"b", size)


def test_the_app_installs_the_decoder(tmp_path):
    create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "MEDIA_STORE": str(tmp_path / "media")})
    assert werkzeug.formparser.MultipartDecoder is Decoder

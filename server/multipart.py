"""werkzeug's multipart decoder without two regular expressions compiled per request.

``werkzeug.sansio.multipart.MultipartDecoder`` compiles two patterns that embed the request's
boundary (the preamble's end and a part's end). Phones send a new random boundary with every
request (OkHttp's ``MultipartBody``: a UUID), so Python's pattern cache never hits: compiling
them took about a tenth of a submission's app CPU (the take-in benchmark, issue 16).

``Decoder`` keeps werkzeug's decoder and replaces only those two patterns by ``BoundarySearch``:
``bytes.find`` of ``--`` + boundary, then what surrounds it checked with patterns compiled once.
It answers what the compiled pattern would (the same leftmost start, end and trailing group;
a Hypothesis test compares the two), so werkzeug's parsing, limits and errors are unchanged.
``install`` makes werkzeug's form parser use it (``create_app``).
"""

from __future__ import annotations

import re

import werkzeug.formparser
from werkzeug.sansio.multipart import LINE_BREAK, MultipartDecoder

# What follows the boundary in werkzeug's patterns (the group they report): ``--`` for the
# last one, horizontal space, a line break (mandatory after a part's boundary, optional after
# the last).
_AFTER = re.compile(rb"(--[^\S\n\r]*%s?|[^\S\n\r]*%s)" % (LINE_BREAK, LINE_BREAK), re.MULTILINE)


class Found:
    """The part of ``re.Match`` werkzeug reads: ``start()``, ``end()`` and ``group(1)``."""

    __slots__ = ("_start", "_end", "_after")

    def __init__(self, start: int, end: int, after: bytes):
        self._start, self._end, self._after = start, end, after

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self, index: int) -> bytes:
        if index != 1:
            raise IndexError(index)
        return self._after


class BoundarySearch:
    """``re.compile(LINE_BREAK[?] + b"--" + re.escape(boundary) + AFTER).search``, found with
    ``bytes.find``: ``line_break_optional`` for the preamble's pattern."""

    def __init__(self, boundary: bytes, line_break_optional: bool):
        self.dashed = b"--" + boundary
        self.optional = line_break_optional

    def search(self, buffer: bytes | bytearray, pos: int = 0) -> Found | None:
        at = buffer.find(self.dashed, pos)
        while at != -1:
            start = self._line_start(buffer, at, pos)
            if start is not None:
                after = _AFTER.match(buffer, at + len(self.dashed))
                if after is not None:
                    return Found(start, after.end(), after.group(1))
            at = buffer.find(self.dashed, at + 1)
        return None

    def _line_start(self, buffer: bytes | bytearray, at: int, pos: int) -> int | None:
        """Where the match of the boundary found at ``at`` starts: at the line break before
        it (``\\r\\n``, ``\\n`` or ``\\r``, at or after ``pos``, the leftmost), else at ``at``
        itself where the line break is optional; None where it is missing."""
        if at - 2 >= pos and buffer[at - 2:at] == b"\r\n":
            return at - 2
        if at - 1 >= pos and buffer[at - 1] in b"\r\n":
            return at - 1
        return at if self.optional else None


class Decoder(MultipartDecoder):
    """werkzeug's decoder with the two boundary patterns found by ``BoundarySearch``."""

    def __init__(self, boundary: bytes, max_form_memory_size: int | None = None, *,
                 max_parts: int | None = None) -> None:
        super().__init__(b"", max_form_memory_size, max_parts=max_parts)
        self.boundary = boundary
        self.preamble_re = BoundarySearch(boundary, line_break_optional=True)
        self.boundary_re = BoundarySearch(boundary, line_break_optional=False)


def install() -> None:
    """Make werkzeug's multipart form parser (``request.files``, ``request.form``) decode
    with ``Decoder``. Idempotent; a module attribute of werkzeug's, so checked by a test
    against each werkzeug the project allows."""
    werkzeug.formparser.MultipartDecoder = Decoder

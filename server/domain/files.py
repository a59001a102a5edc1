"""Uploaded files as users' devices send them: their names, and what kind of file they are."""

from __future__ import annotations

import re
import unicodedata

from server.domain.catalogue import CatalogueError

MAX_NAME = 255
# Every PDF begins with this header (ISO 32000-1 §7.5.2). Readers tolerate junk before it; we
# don't: a file is taken as a PDF only when it starts with it.
PDF_MAGIC = b"%PDF-"


def clean_filename(filename: str | None, fallback: str) -> str:
    """The file's own name: no folders (``C:\\fakepath\\``), no control or bidi-override
    characters (line breaks and tabs become spaces: the name goes into headers), ≤ 255
    characters with the extension kept; ``fallback`` when nothing is left."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(" " if c in "\t\r\n" or unicodedata.category(c) in ("Zl", "Zp")
                   else "" if unicodedata.category(c) in ("Cc", "Cf") else c
                   for c in name).strip() or fallback
    if len(name) > MAX_NAME:
        stem, _, extension = name.rpartition(".")
        keep = MAX_NAME - 1 - len(extension)
        name = f"{stem[:keep]}.{extension}" if stem and keep > 0 else name[:MAX_NAME]
    return name


def _is_control(character: str) -> bool:
    return unicodedata.category(character) == "Cc"  # C0, DEL and C1: NUL, line breaks, ESC …


def check_attachment_name(name: str) -> str:
    """A submission's file part is kept under the name it was sent with, which its XML names:
    refused (``ATTACHMENT_NAME_INVALID``) when the name holds a folder separator (``/``, ``\\``)
    or a control character (NUL, a line break, ESC …), or is empty. Collect's own names
    (``1712345678901.jpg``) never do."""
    if not name or any(c in "/\\" or _is_control(c) for c in name):
        raise CatalogueError("ATTACHMENT_NAME_INVALID", name=shown_name(name))
    return name


def shown_name(name: str) -> str:
    """A name as a message may show it: its control characters written as escapes (``\\x00``),
    so that the message stays text that XML and JSON can carry."""
    return "".join(f"\\x{ord(c):02x}" if _is_control(c) else c for c in name)


def is_pdf(head: bytes) -> bool:
    """Whether a file beginning with ``head`` is a PDF (by its header, not its name)."""
    return head.startswith(PDF_MAGIC)

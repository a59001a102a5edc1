"""Uploaded files as users' devices send them: their names, and what kind of file they are."""

from __future__ import annotations

import re
import unicodedata

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


def is_pdf(head: bytes) -> bool:
    """Whether a file beginning with ``head`` is a PDF (by its header, not its name)."""
    return head.startswith(PDF_MAGIC)

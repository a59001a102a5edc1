"""HTML/CSS to PDF: the only module that knows the PDF engine (WeasyPrint, on Debian's pango,
with the system's Noto CJK fonts; nothing is downloaded).

The forms are Jinja templates (``templates/``) over the shapes of ``printing.forms``, laid out by
one stylesheet (``templates/print.css``, A4, ``@page`` rules, fixed table layouts). A document is
the forms' bodies one after the other, each starting a page, so a village's batch is one PDF.
Signature images come from the media store through the engine's URL fetcher (``media:<key>``);
every other URL is refused, so a printed page never reaches out of the server.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from PIL import ImageFile
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from media.store import MediaNotFound, MediaStore
from server.concurrency import offload
from server.domain.printed import BLANK_DATE, blank_name, chinese_date

# Importing WeasyPrint sets Pillow's process-wide ImageFile.LOAD_TRUNCATED_IMAGES, which would
# make every upload check of the server (media.images.verify_image) accept truncated photos.
# The forms only draw images the server stored after that check: Pillow's default is put back.
ImageFile.LOAD_TRUNCATED_IMAGES = False

TEMPLATES = Path(__file__).parent / "templates"
_KEY = re.compile(r"media:([0-9a-f]{64})")
CHUNK = 20  # forms laid out at once in a long batch


@dataclass(frozen=True)
class Pdf:
    content: bytes
    pages: int


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cdate"] = chinese_date
    env.globals["BLANK_DATE"] = BLANK_DATE
    env.filters["media"] = lambda key: f"media:{key}"
    env.filters["blank"] = blank_name
    return env


@cache
def _stylesheet() -> tuple[CSS, FontConfiguration]:
    fonts = FontConfiguration()
    return CSS(filename=str(TEMPLATES / "print.css"), font_config=fonts), fonts


class _MediaFetcher(URLFetcher):
    """Serves ``media:<sha256>`` from the images read beforehand (``_media_of``); refuses any
    other URL (fatal: no request leaves the server while a form is printed)."""

    def __init__(self, images: dict[str, bytes] | None):
        super().__init__()
        self.images = images

    def fetch(self, url, headers=None):
        match = _KEY.fullmatch(url)
        if match is None or self.images is None:
            raise FatalURLFetchingError(f"refused: {url[:80]}")
        if (body := self.images.get(match[1])) is None:
            raise ValueError(f"missing media {match[1]}")  # left out, not fatal
        return URLFetcherResponse(url, body)


def _media_of(html: str, store: MediaStore | None) -> dict[str, bytes] | None:
    """The stored images a document draws (signatures: a few KiB each), read before the layout
    so that the layout touches no store: it may run in another thread (``offload``), and the
    store's connections belong to the request's."""
    if store is None:
        return None
    images = {}
    for key in set(_KEY.findall(html)):
        try:
            stream = store.open(key)
        except MediaNotFound:
            continue
        try:
            images[key] = stream.read()
        finally:
            stream.close()
    return images


def body(template: str, **context) -> str:
    """One form's body (a ``<section>`` per page or copy)."""
    return _environment().get_template(template).render(**context)


def pdf(bodies: list[str], store: MediaStore | None, title: str) -> Pdf:
    """The bodies as one PDF document, each starting a page.

    A long batch is laid out ``CHUNK`` bodies at a time and the parts joined (pypdf): the
    engine holds a whole document's layout in memory (a village of 200 households at once took
    over 700 MB), a part of it is dropped once written."""
    if len(bodies) <= CHUNK:
        return _document(bodies, store, title)
    writer = PdfWriter()
    pages = 0
    for start in range(0, len(bodies), CHUNK):
        part = _document(bodies[start:start + CHUNK], store, title)
        writer.append(PdfReader(io.BytesIO(part.content)))
        pages += part.pages
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return Pdf(out.getvalue(), pages)


def _document(bodies: list[str], store: MediaStore | None, title: str) -> Pdf:
    html = _environment().get_template("document.html").render(bodies=bodies, title=title)
    # seconds of CPU for a batch: off the event loop under the gevent worker
    return offload(_layout, html, _media_of(html, store))


def _layout(html: str, images: dict[str, bytes] | None) -> Pdf:
    stylesheet, fonts = _stylesheet()
    document = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=_MediaFetcher(images)
                    ).render(stylesheets=[stylesheet], font_config=fonts)
    return Pdf(document.write_pdf(), len(document.pages))

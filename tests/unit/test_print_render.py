"""The PDF engine's edge (server/printing/render.py): signature images come from the media
store only; the page never fetches anything else."""

from __future__ import annotations

import io

import pytest
from weasyprint.urls import FatalURLFetchingError

from media.memory import MemoryMediaStore
from server.printing import render
from tests.support.collect import png_bytes


def test_a_stored_signature_is_drawn_and_any_other_url_is_refused():
    store = MemoryMediaStore()
    stored = store.put(io.BytesIO(png_bytes((120, 40))))
    drawn = render.pdf([f'<section class="page"><img src="media:{stored.key}"></section>'],
                       store, "签名")
    assert drawn.pages == 1 and b"/Subtype /Image" in drawn.content

    with pytest.raises(FatalURLFetchingError):
        render.pdf(['<section class="page"><img src="http://example.com/x.png"></section>'],
                   store, "外部")
    with pytest.raises(FatalURLFetchingError):
        render.pdf(['<section class="page"><img src="file:///etc/passwd"></section>'],
                   store, "文件")

"""The ODK Collect settings QR payload: zlib-compressed JSON in standard base64."""

from __future__ import annotations

import base64
import json
import zlib

from server.accounts import collect


def test_payload_is_what_collect_decodes():
    """Collect inflates base64-decoded bytes and needs "general" and "admin" keys."""
    payload = collect.settings("https://srv.example/key/abc", "防返贫监测", "helper1")

    text = collect.encode(payload)

    decoded = json.loads(zlib.decompress(base64.b64decode(text, validate=True)))
    assert decoded["general"]["server_url"] == "https://srv.example/key/abc"
    assert decoded["general"]["form_update_mode"] == "match_exactly"
    assert decoded["admin"] == {}
    assert decoded["project"]["name"] == "防返贫监测"
    assert "\n" not in text


def test_qr_png_is_written(tmp_path):
    from PIL import Image

    path = collect.write_qr_png(collect.settings("http://h/key/t", "p"), tmp_path / "qr.png")

    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100

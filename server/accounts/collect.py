"""ODK Collect's settings QR code: zlib-compressed JSON, base64-encoded.

Scanning it configures a Collect project: the server URL (with the helper's token in it), form
update and auto-send modes, and the project name. See docs.getodk.org/collect-import-export.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import segno


def server_url(public_url: str, token: str) -> str:
    """The server URL a phone is given: the token in the path is its credential."""
    return f"{public_url.rstrip('/')}/key/{token}"


def settings(server_url: str, project_name: str, username: str = "") -> dict:
    general = {
        "server_url": server_url,
        "form_update_mode": "match_exactly",
        "autosend": "wifi_and_cellular",
    }
    if username:
        general["username"] = username
    return {"general": general, "admin": {}, "project": {"name": project_name}}


def encode(payload: dict) -> str:
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw)).decode("ascii")


def decode(text: str) -> dict:
    """The inverse of ``encode`` (what Collect does when it scans the code)."""
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def write_qr_png(payload: dict, path: Path) -> Path:
    segno.make(encode(payload), error="l").save(path, scale=6, border=4)
    return path


def qr_data_uri(payload: dict) -> str:
    """The settings QR code as a ``data:image/png`` URI, for a page that shows it once."""
    return segno.make(encode(payload), error="l").png_data_uri(scale=5, border=4)

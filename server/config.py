"""Configuration: embedded defaults, overridden by environment variables.

Every setting has a default that works on a laptop with nothing installed (a SQLite file and a
local media folder under ``instance/``). Production sets ``DATABASE_URL`` (PostgreSQL through
psycopg 3, e.g. ``postgresql+psycopg://user:pw@host/fangpin``) and ``MEDIA_STORE``
(``s3://bucket/prefix`` with ``S3_ENDPOINT_URL`` and the usual ``AWS_*`` credentials).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("FANGPIN_INSTANCE", PROJECT_ROOT / "instance"))

DEFAULTS: dict[str, object] = {
    "DATABASE_URL": f"sqlite:///{INSTANCE / 'fangpin.sqlite3'}",
    "MEDIA_STORE": str(INSTANCE / "media"),
    "S3_ENDPOINT_URL": None,
    "S3_REGION": None,
    # Leave empty to use boto3's own chain (AWS_ACCESS_KEY_ID…, instance roles).
    "S3_ACCESS_KEY_ID": None,
    "S3_SECRET_ACCESS_KEY": None,
    # The largest POST /submission body the server accepts; Collect splits bigger submissions.
    "MAX_SUBMISSION_BYTES": 100 * 1024 * 1024,
    # The address phones use to reach the server (for the settings QR code and download URLs
    # printed by the CLI). Request URLs use the Host header the phone sent.
    "PUBLIC_URL": None,  # default: http://<this machine's address>:<PORT>
    "PORT": 5000,
    "XLSFORMS_DIR": str(PROJECT_ROOT / "xlsforms"),
    "PROJECT_NAME": "防返贫监测",
    # When a stored submission is taken into the registry: "inline" (in its own request) or
    # "queue" (by `fangpin worker` after the response); see server/intake/worker.py.
    "TAKE_IN": "inline",
    # Seconds a process remembers checked credentials (Collect tokens, passwords; 0: check
    # every request). A revocation or deactivation made elsewhere takes effect within this time.
    "AUTH_CACHE_SECONDS": 10,
}

_INT_SETTINGS = {"MAX_SUBMISSION_BYTES", "PORT", "AUTH_CACHE_SECONDS"}


def load(overrides: dict | None = None) -> dict[str, object]:
    """Defaults, then environment variables of the same names, then explicit overrides."""
    config = dict(DEFAULTS)
    for name in DEFAULTS:
        if name in os.environ:
            value: object = os.environ[name]
            config[name] = int(value) if name in _INT_SETTINGS else value
    config.update(overrides or {})
    if config["TAKE_IN"] not in ("inline", "queue"):
        raise ValueError(f"TAKE_IN must be 'inline' or 'queue', not {config['TAKE_IN']!r}")
    if not config["PUBLIC_URL"]:
        config["PUBLIC_URL"] = f"http://{_host_address()}:{config['PORT']}"
    return config


def _host_address() -> str:
    """This machine's address as the local network sees it (loopback when it has none).

    The host name's address, unless it maps to loopback (as Debian's ``127.0.1.1`` line in
    /etc/hosts does): then the address of the interface that routes outward.
    """
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        address = LOOPBACK
    if not address.startswith("127."):
        return address
    return outward_address() or LOOPBACK


LOOPBACK = "127.0.0.1"


def outward_address() -> str | None:
    """The address of the interface that routes outward, or None without such a route.

    A UDP socket "connected" to a documentation address (RFC 5737 192.0.2.1) makes the kernel
    choose the route and the source address; no packet is sent.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address

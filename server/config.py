"""Configuration: embedded defaults, overridden by environment variables.

Every setting has a default that works on a laptop with nothing installed (a SQLite file and a
local media folder under ``instance/``). Production sets ``DATABASE_URL`` (PostgreSQL through
psycopg 3, e.g. ``postgresql+psycopg://user:pw@host/fangpin``) and ``MEDIA_STORE``
(``s3://bucket/prefix`` with ``S3_ENDPOINT_URL`` and the usual ``AWS_*`` credentials).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
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
    # The largest XML part (the filled form itself) a submission may carry: it is read into memory
    # up to this size, and a larger one is refused (XML_TOO_LARGE) — a form's XML is some KiB.
    "MAX_XML_BYTES": 10 * 1024 * 1024,
    # The address phones use to reach the server (for the settings QR code and download URLs
    # printed by the CLI). Request URLs use the Host header the phone sent.
    "PUBLIC_URL": None,  # default: http://<this machine's address>:<PORT>
    "PORT": 5000,
    "XLSFORMS_DIR": str(PROJECT_ROOT / "xlsforms"),
    "PROJECT_NAME": "防返贫监测",
    # When a stored submission is taken into the registry: "inline" (in its own request) or
    # "queue" (by `fangpin worker` after the response); see server/intake/worker.py.
    "TAKE_IN": "inline",
    # Where background jobs (large exports, print batches) run: "thread" (a thread of the
    # server) or "procrastinate" (PostgreSQL; `fangpin jobs` runs them); see server/jobs.
    "JOBS": "thread",
    # Seconds a process remembers checked credentials (Collect tokens, passwords; 0: check
    # every request). A revocation or deactivation made elsewhere takes effect within this time.
    "AUTH_CACHE_SECONDS": 10,
    # --- the web console (server/console, docs/console.md) ---
    # Signs the console's session cookie and its CSRF tokens. Unset: a random key is made once
    # and kept in instance/secret_key, so that every worker process of the server shares it.
    "SECRET_KEY": None,
    # The session cookie is sent over https only. Production runs behind TLS; set it to 0 for
    # plain-http development (`make run` does) and tests.
    "SESSION_COOKIE_SECURE": True,
    # Minutes without a request after which a console session ends (fractions allowed).
    "CONSOLE_IDLE_MINUTES": 30,
    # Failed logins (console, HTTP Basic on the REST API and OpenRosa) within the window that
    # lock an account name, or a client address, until the oldest of them leaves the window.
    "LOGIN_FAILURES_PER_ACCOUNT": 10,
    "LOGIN_FAILURES_PER_ADDRESS": 30,
    "LOGIN_FAILURE_WINDOW_MINUTES": 15,
    # Reverse proxies in front of the server whose X-Forwarded-For / -Proto to trust (0: none;
    # 1 behind one nginx). The failed-login limit counts per client address: behind a proxy
    # without this, every client would share the proxy's address.
    "TRUSTED_PROXIES": 0,
    # Under the gevent worker (deploy/gunicorn-direct.conf.py, no proxy): a request's body may
    # take this many seconds plus one per BODY_MIN_RATE bytes, else 408 REQUEST_TOO_SLOW
    # (server/request_pace.py; 0 turns it off). Behind nginx its client_body_timeout does this.
    "BODY_TIMEOUT_SECONDS": 20,
    "BODY_MIN_RATE": 500,
    # The county's counts (统计看板; server.reports) are kept per area for at most this long,
    # and only while no case, survey or evaluation has been written since (0: not kept).
    "COUNTS_CACHE_SECONDS": 300,
    # The server's log lines (standard error): "json" (one object a line: time, level, logger,
    # message, and for requests request_id, user_id, method, route, status, duration_ms) or
    # "text". Either way ID numbers, phone numbers, tokens and passwords are masked.
    "LOG_FORMAT": "json",
}

_INT_SETTINGS = {"MAX_SUBMISSION_BYTES", "MAX_XML_BYTES", "PORT", "AUTH_CACHE_SECONDS",
                 "COUNTS_CACHE_SECONDS", "LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS",
                 "TRUSTED_PROXIES", "BODY_MIN_RATE"}
_FLOAT_SETTINGS = {"CONSOLE_IDLE_MINUTES", "LOGIN_FAILURE_WINDOW_MINUTES", "BODY_TIMEOUT_SECONDS"}
_BOOL_SETTINGS = {"SESSION_COOKIE_SECURE"}


def load(overrides: dict | None = None) -> dict[str, object]:
    """Defaults, then environment variables of the same names, then explicit overrides."""
    config = dict(DEFAULTS)
    for name in DEFAULTS:
        if name in os.environ:
            config[name] = _parse(name, os.environ[name])
    config.update(overrides or {})
    if config["TAKE_IN"] not in ("inline", "queue"):
        raise ValueError(f"TAKE_IN must be 'inline' or 'queue', not {config['TAKE_IN']!r}")
    if not config["PUBLIC_URL"]:
        config["PUBLIC_URL"] = f"http://{_host_address()}:{config['PORT']}"
    return config


def instance_secret_key(instance: Path) -> str:
    """The secret key kept in ``instance/secret_key``, made (random, owner-only) on first use;
    every process of one server reads the same file, so all accept each other's cookies."""
    path = instance / "secret_key"
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_complete(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text("ascii").strip()


def _read_complete(path: Path) -> str:
    for _ in range(50):
        text = path.read_text("ascii").strip()
        if text:
            return text
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it, or set SECRET_KEY")


def _parse(name: str, value: str) -> object:
    if name in _INT_SETTINGS:
        return int(value)
    if name in _FLOAT_SETTINGS:
        return float(value)
    if name in _BOOL_SETTINGS:
        if value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if value.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")
    return value


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

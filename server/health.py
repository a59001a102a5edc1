"""Health for the service manager and the reverse proxy.

``/health/live``: the process answers (a restart is due when it does not); it reads nothing.
``/health/ready``: the instance can serve — the database answers and its schema is current with
``migrations/``, and the media store can be reached — else 503 with what failed, so a proxy
sends no phone to it. ``/health`` is the live check (the earlier path)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app
from sqlalchemy import text

from server.db import unavailable
from server.migrate import pending

bp = Blueprint("health", __name__)


@bp.get("/health")
@bp.get("/health/live")
def live():
    return {"status": "ok"}


@bp.get("/health/ready")
def ready():
    checks = {"database": _database(), "media": _media()}
    ok = all(check["ok"] for check in checks.values())
    response = {"status": "ok" if ok else "unavailable", "checks": checks}
    return response, 200 if ok else 503, ({} if ok else {"Retry-After": "10"})


def _database() -> dict:
    began = time.perf_counter()
    engine = current_app.extensions["fangpin.db"].engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            missing = pending(connection)
    except Exception as error:
        if not unavailable(error):
            raise
        return {"ok": False, "error": type(error).__name__}
    seconds = round(time.perf_counter() - began, 4)
    if missing:
        return {"ok": False, "error": "migrations pending", "revisions": missing,
                "seconds": seconds}
    return {"ok": True, "seconds": seconds}


def _media() -> dict:
    from media import MediaStoreUnavailable

    began = time.perf_counter()
    try:
        current_app.extensions["fangpin.media"].check()
    except MediaStoreUnavailable as error:
        return {"ok": False, "error": str(error)}
    return {"ok": True, "seconds": round(time.perf_counter() - began, 4)}

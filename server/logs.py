"""The server's logs: one line per request and every other record, with no personal data.

``init_app`` (from ``create_app``) puts one handler on the root logger whose formatter passes
every finished line through ``server.domain.personal.redact`` (ID numbers, mobile numbers,
Collect tokens, passwords), whoever logged it (the app, werkzeug, SQLAlchemy, a library). The
format is ``LOG_FORMAT``: ``json`` (default; one JSON object a line, for a log collector) or
``text`` (for a person at a terminal).

Each request gets an id: the ``X-Request-Id`` header the proxy sent (if it is a plain token of
at most 64 characters), else a new one; it is echoed in the response's ``X-Request-Id`` and
carried by every line logged during the request. After the request one line of the
``fangpin.request`` logger gives the method, the route (the URL rule, ``/key/<token>/formList``,
never the path as sent), the status, the duration and the user's id (never a name).

``GunicornLogger`` does the same for gunicorn's own logs (``logger_class`` in
``deploy/gunicorn.conf.py``): its access lines are redacted and end with the request id.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import TextIO

from flask import Flask, g, has_request_context, request

from server.domain.personal import redact

REQUEST_LOGGER = "fangpin.request"
_HANDLER_FLAG = "_fangpin_handler"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The request's fields of a line (``extra``), in the order the text format writes them.
REQUEST_FIELDS = ("request_id", "user_id", "method", "route", "status", "duration_ms")
# One encoder for every line (``json.dumps`` with options makes a new one each call).
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """Formats a record as ``json`` or ``text``, then redacts the whole line."""

    def __init__(self, style: str = "json", inner: logging.Formatter | None = None):
        super().__init__()
        self.style = style
        self.inner = inner  # gunicorn's own formatter, kept (``GunicornLogger``)

    def format(self, record: logging.LogRecord) -> str:
        if self.inner is not None:
            return redact(self.inner.format(record))
        fields = _request_fields(record)
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if self.style == "text":
            extra = " ".join(f"{name}={fields[name]}" for name in REQUEST_FIELDS
                             if fields.get(name) is not None)
            when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            line = f"{when}Z {record.levelname} {record.name}: {message}"
            return redact(f"{line} {extra}" if extra else line)
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                     timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": message,
                 **{name: value for name, value in fields.items() if value is not None}}
        return redact(_JSON.encode(entry))


def _request_fields(record: logging.LogRecord) -> dict[str, object]:
    fields = {name: getattr(record, name, None) for name in REQUEST_FIELDS}
    if fields["request_id"] is None and has_request_context():
        fields["request_id"] = g.get("request_id")
    return fields


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is written (as ``logging.lastResort``
    does), not to the stream of the moment the app was made."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def new_request_id() -> str:
    """A random request id in groups of 8 hex characters: never 11 digits in a row, so the
    redaction of phone numbers cannot mask a piece of it."""
    digits = uuid.uuid4().hex
    return "-".join(digits[n:n + 8] for n in range(0, 32, 8))


def request_id(sent: str) -> str:
    """A request's id: the ``X-Request-Id`` it was sent with, if well formed, or a new one."""
    return sent if _REQUEST_ID.match(sent) else new_request_id()


_request_log = logging.getLogger(REQUEST_LOGGER)


def log_request(rid: str, user_id: int | None, method: str, route: str, status: int,
                started: float | None) -> None:
    """The one line of a request (``rid``: its id), at its end (``started``: its
    ``time.perf_counter()``): Flask's after-request hook and ``sync.shortcut`` write it."""
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    _request_log.info("%s %s %s", method, route, status, extra={
        "request_id": rid, "user_id": user_id, "method": method, "route": route,
        "status": status, "duration_ms": duration})


# Loggers whose INFO lines are the server's story (requests, the worker, the dev server); other
# libraries' (a PDF engine's progress, a font subsetter's) stay at the root's WARNING.
INFO_LOGGERS = ("fangpin", "server", "sync", "media", "werkzeug")


def configure(style: str = "json", stream: TextIO | None = None) -> logging.Handler:
    """Put the one redacting handler on the root logger (replacing an earlier one of ours, so
    that making apps again, as tests do, never stacks them); returns it."""
    if style not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {style!r}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_FLAG, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(RedactingFormatter(style))
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)
    for name in INFO_LOGGERS:
        if logging.getLogger(name).level in (logging.NOTSET, logging.WARNING):
            logging.getLogger(name).setLevel(logging.INFO)
    return handler


def init_app(app: Flask) -> None:
    """The logging of the app (first of ``create_app``: the request id exists before any
    other ``before_request`` can refuse the request)."""
    configure(str(app.config["LOG_FORMAT"]).lower())

    @app.before_request
    def _start() -> None:
        g.request_id = request_id(request.headers.get("X-Request-Id", ""))
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        rid = g.get("request_id") or new_request_id()
        response.headers["X-Request-Id"] = rid
        route = request.url_rule.rule if request.url_rule is not None else "-"
        user = g.get("user") or g.get("console_user")
        log_request(rid, getattr(user, "id", None), request.method, route,
                    response.status_code, g.get("request_started"))
        return response


try:  # gunicorn is a dependency of production, not of every use of this module
    from gunicorn.glogging import Logger as _GunicornBase
except ImportError:  # pragma: no cover
    _GunicornBase = object


class GunicornLogger(_GunicornBase):
    """gunicorn's logger with the server's rules: every line of its error and access logs is
    redacted (a Collect token in ``/key/<token>/``, an ID number in a query string), and an
    access line ends with ``rid=<request id>`` (the ``X-Request-Id`` the app answered with).
    ``gunicorn --logger-class server.logs.GunicornLogger`` or ``logger_class`` in the config."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not isinstance(handler.formatter, RedactingFormatter):
                    handler.setFormatter(RedactingFormatter(inner=handler.formatter
                                                            or logging.Formatter()))

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        line_format = self.cfg.access_log_format
        if "x-request-id" not in line_format.lower():
            line_format += " rid=%({x-request-id}o)s"
        try:
            self.access_log.info(line_format, atoms)
        except Exception:  # as gunicorn's own: a bad format never fails the request
            self.exception("access log line")

"""Catalogue errors for HTTP: ``AppError`` and its renderers.

The codes, their statuses and Chinese messages are the one catalogue of
``server.domain.catalogue`` (which the domain uses too). Code raises
``AppError("ID_CHECKSUM", expected="X", given="1")``; the handlers registered in ``init_app``
render it as JSON for the REST API (``{code, message, details}``) and as an OpenRosaResponse for
ODK Collect. A domain refusal (a ``CatalogueError``) becomes one with ``AppError.of``. Tests
assert on codes, never on message text.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)

from media.store import MediaStoreFull, MediaStoreUnavailable
from server.db import RETRY_AFTER_SECONDS, UNAVAILABLE
from server.domain.catalogue import CATALOGUE, CatalogueError, Kind

log = logging.getLogger(__name__)

__all__ = ["CATALOGUE", "AppError", "Kind", "init_app", "register_renderer", "render"]


class AppError(CatalogueError):
    """A refusal of the catalogue, with the values its message names, as an HTTP answer."""

    @classmethod
    def of(cls, error: CatalogueError) -> AppError:
        """The HTTP refusal of a domain's refusal: the same code and values."""
        return cls(error.code, also=error.also, **error.params)

    @property
    def status(self) -> int:
        return CATALOGUE[self.code].status


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "SUBMISSION_TOO_LARGE",
               500: "INTERNAL"}

# Renderers by blueprint name prefix; the default is JSON.
_renderers: dict[str, object] = {}


def register_renderer(blueprint_prefix: str, render) -> None:
    """Let a blueprint (OpenRosa) render catalogue errors in its own format."""
    _renderers[blueprint_prefix] = render


def render(error: AppError):
    blueprint = request.blueprint or ""
    for prefix, renderer in _renderers.items():
        if blueprint.startswith(prefix):
            return renderer(error)
    details = error.details()
    response = jsonify(code=error.code, message=error.message,
                       **({"details": details} if details else {}))
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="fangpin", charset="UTF-8"'
    add_retry_after(error, response)
    return response


def add_retry_after(error: AppError, response):
    """A refusal that ends by itself (429, 503) says when: ``Retry-After`` in seconds (RFC 9110)."""
    if "retry_after" in error.params:
        response.headers["Retry-After"] = str(error.params["retry_after"])
    return response


def database_unavailable(error: BaseException):
    """The answer while the database cannot be reached (``server.db.unavailable``): 503 with
    ``Retry-After``, in the route's format (an OpenRosaResponse for Collect). Nothing of the
    request was committed."""
    log.warning("database unavailable: %s: %s", type(error).__name__, error)
    return render(AppError("DATABASE_UNAVAILABLE", retry_after=RETRY_AFTER_SECONDS,
                           seconds=RETRY_AFTER_SECONDS))


def media_store_unavailable(error: MediaStoreUnavailable):
    """The answer while the media store cannot be reached (503) or is full (507): nothing of
    the request was committed, and what was put before it is whole (puts are atomic)."""
    log.error("media store unavailable: %s", error)
    if isinstance(error, MediaStoreFull):
        return render(AppError("MEDIA_STORE_FULL"))
    return render(AppError("MEDIA_STORE_UNAVAILABLE", retry_after=RETRY_AFTER_SECONDS,
                           seconds=RETRY_AFTER_SECONDS))


def init_app(app: Flask) -> None:
    app.register_error_handler(AppError, render)
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)
    app.register_error_handler(MediaStoreUnavailable, media_store_unavailable)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = _HTTP_CODES.get(exc.code or 500)
        if code == "SUBMISSION_TOO_LARGE" and not _body_over_limit():
            # werkzeug's form parser: more parts than ``max_form_parts``, or a text field over
            # ``max_form_memory_size``, in a body within the limit
            error = AppError("SUBMISSION_TOO_MANY_PARTS", limit=request.max_form_parts)
        elif code == "SUBMISSION_TOO_LARGE":  # the body outgrew limit_body's limit while read
            code, limit = g.get("body_limit", (code, app.config["MAX_SUBMISSION_BYTES"]))
            size = request.content_length
            error = AppError(code, size=f">{limit}" if size is None else size, limit=limit)
        elif code:
            error = AppError(code)
        else:
            error = AppError("BAD_REQUEST", detail=exc.description)
        response = render(error)
        response.status_code = exc.code or error.status
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    # flask-smorest's Api, set up later, handles HTTPException for its validation 422s; a URL
    # that matches no route or method, or a body that outgrows ``limit_body`` while it is read,
    # still answers with a catalogue error (the documented 404/405/413 shape; OpenRosa's in
    # its own format), since Flask picks the most specific class's handler.
    for kind in (NotFound, MethodNotAllowed, RequestEntityTooLarge):
        app.register_error_handler(kind, _http_error)


def _body_over_limit() -> bool:
    """Whether the request's body is larger than the server reads (``max_content_length``):
    declared so, or, sent without a length (chunked), read up to the limit before it ended."""
    limit = request.max_content_length
    if limit is None:
        return False
    if request.content_length is not None:
        return request.content_length > limit
    return getattr(request.stream, "is_exhausted", True)  # werkzeug's LimitedStream


def limit_body(limit: int, code: str = "SUBMISSION_TOO_LARGE", overhead: int = 0) -> None:
    """The one request-size check (a submission, a case action's files, a warning list): a body
    declared larger than ``limit`` (+ ``overhead``, e.g. multipart framing around a file of at
    most ``limit`` bytes) is refused with the catalogue's ``code`` (a 413) before any of it is
    read; one sent without a length stops being read there, and answers with the same code."""
    if request.content_length is not None and request.content_length > limit + overhead:
        raise AppError(code, size=request.content_length, limit=limit)
    request.max_content_length = limit + overhead
    g.body_limit = (code, limit)

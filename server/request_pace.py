"""A request body sent too slowly is cut off, under the gevent worker (no proxy in front).

gunicorn has no timeout for a request's body: a client sending a byte a second keeps its
connection, and under gevent its greenlet, for as long as it likes, and enough of them fill
``worker_connections``. nginx's ``client_body_timeout`` does this job in the proxied
deployment. Here the app reads the body through a wrapper that lets it take
``BODY_TIMEOUT_SECONDS`` plus one second per ``BODY_MIN_RATE`` bytes read (Apache's
mod_reqtimeout: 20 s, then 500 bytes a second on average); past that the request ends with 408
REQUEST_TOO_SLOW. A phone on the slowest mobile line sends several KiB a second.

Only under gevent: there a read can be given a deadline (``gevent.Timeout``) however the bytes
trickle in. gthread workers are meant to sit behind nginx, which never sends slowly. A setting of
0 turns it off.
"""

from __future__ import annotations

import time

from flask import Flask

from server.concurrency import under_gevent
from server.errors import AppError, render

# The body is read in pieces of this size, each with its deadline.
PIECE = 8192


class BodyTooSlow(Exception):
    """Raised by a read of the body past its deadline. Neither an OSError nor a ValueError,
    which werkzeug's form parser would take for a client that went away or a malformed body;
    the app's handler answers with the catalogue's REQUEST_TOO_SLOW."""

    def __init__(self, size: int, seconds: int, rate: int):
        super().__init__(f"{size} bytes in {seconds} s")
        self.error = AppError("REQUEST_TOO_SLOW", size=size, seconds=seconds, rate=rate)


class _PacedInput:
    """``wsgi.input``, read against the deadline: started + grace + bytes / min_rate."""

    def __init__(self, stream, grace: float, min_rate: float):
        self._stream = stream
        self._grace = grace
        self._rate = min_rate
        self._started = time.monotonic()
        self._done = 0

    def read(self, size: int | None = -1) -> bytes:
        wanted = size if size is not None and size >= 0 else None
        chunks = []
        while wanted is None or wanted > 0:
            data = self._timed(self._stream.read, PIECE if wanted is None else min(PIECE, wanted))
            if not data:
                break
            chunks.append(data)
            if wanted is not None:
                wanted -= len(data)
        return b"".join(chunks)

    def readline(self, size: int | None = -1) -> bytes:
        return self._timed(self._stream.readline, PIECE if size is None or size < 0
                           else min(size, PIECE))

    def __iter__(self):
        while line := self.readline():
            yield line

    def _timed(self, read, size: int) -> bytes:
        import gevent

        deadline = self._started + self._grace + (self._done + size) / self._rate
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._too_slow()
        try:
            with gevent.Timeout(remaining):
                data = read(size)
        except gevent.Timeout:
            raise self._too_slow() from None
        self._done += len(data)
        return data

    def _too_slow(self) -> BodyTooSlow:
        return BodyTooSlow(self._done, round(time.monotonic() - self._started), round(self._rate))


class PacedBodies:
    """WSGI middleware: every request's ``wsgi.input`` read at a pace (see the module)."""

    def __init__(self, app, grace: float, min_rate: float):
        self.app, self.grace, self.min_rate = app, grace, min_rate

    def __call__(self, environ, start_response):
        environ["wsgi.input"] = _PacedInput(environ["wsgi.input"], self.grace, self.min_rate)
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    grace, rate = app.config["BODY_TIMEOUT_SECONDS"], app.config["BODY_MIN_RATE"]
    if under_gevent() and grace > 0 and rate > 0:
        app.wsgi_app = PacedBodies(app.wsgi_app, grace, rate)
        app.register_error_handler(BodyTooSlow, lambda too_slow: render(too_slow.error))

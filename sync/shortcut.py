"""The phones' usual submission by the short road: a WSGI middleware in front of the Flask app.

Nearly every request a county's phones make in a sweep is ``POST /key/<token>/submission``: a
new household, valid, a few kilobytes, over a token URL. Through Flask, the request machinery
around it (the request and app contexts, URL matching, the before- and after-request hooks,
the response object) cost half as much again as the whole of it without them: in process,
1.5–1.7 ms of CPU a submission against 1.0 (``python -m tests.bench.bench_inprocess
--flask-road``), and under gunicorn at concurrency 16 the largest part of the sustained rate's
CPU (docs/benchmarks.md, session 17).

So this middleware answers that request itself, with the view's own parts: the token's user
(``server.auth.user_by_token``, the credentials cache), the multipart body (werkzeug's parser,
Flask's limits), ``ingest_submission`` in a unit of work, the receipt
(``sync.receipts.answer``), the OpenRosa headers and the request's log line (``server.logs``).

It takes nothing else. Flask gets, untouched: another method or path, HTTP Basic, a token that
is not valid, a body without a declared length or larger than ``BUFFERED_BYTES``, a body that
is not multipart, a query other than ``deviceID``. And Flask gets every refusal: when the
submission's unit raises (a malformed XML, an unknown form version, a conflicting copy, a
missing XML part, the database or the media store away), the unit is rolled back without its
on-rollback work and the request, its body replayed from memory, goes to the view, which
answers it as it answers every refusal and keeps what was received. So every rule keeps its
one home (the view, ``server.submissions.services``); this is only a faster road to the same
answer, and ``tests/sync/test_shortcut.py`` checks that both roads answer alike.
"""

from __future__ import annotations

import io
import logging
import re
import time
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import parse_form_data
from werkzeug.http import parse_options_header

from media.store import MediaStoreUnavailable
from media.uploads import UploadedFile, read_capped
from server.auth import Principal, user_by_token
from server.db import Database, unavailable, writing
from server.errors import AppError
from server.logs import log_request, request_id
from server.submissions.services import ingest_submission
from sync import openrosa
from sync.receipts import answer

log = logging.getLogger(__name__)

# The one route taken; the route's name in the request log is the Flask rule's.
_TOKEN_SUBMISSION = re.compile(r"^/key/([^/]+)/submission$")
ROUTE = "/key/<token>/submission"

# A body the short road reads into memory (to hand it to Flask whole if refused): a submission
# with its XML and a photo or two. Larger ones (many photos) take Flask's road, which spools
# their files to disk.
BUFFERED_BYTES = 1024 * 1024


class Handover(Exception):
    """The short road stops here: Flask answers the request."""


class SubmissionShortcut:
    """``app.wsgi_app`` for the usual submission; everything else goes to ``flask_app``."""

    def __init__(self, app: Flask, flask_app):
        self.flask_app = flask_app
        self.database = app.extensions["fangpin.db"]
        self.store = app.extensions["fangpin.media"]
        self.take_in = app.extensions["fangpin.take_in"]
        config = app.config
        self.max_body = config["MAX_SUBMISSION_BYTES"]
        self.max_xml = config["MAX_XML_BYTES"]
        self.max_form_memory = config["MAX_FORM_MEMORY_SIZE"]
        self.max_form_parts = config["MAX_FORM_PARTS"]
        self.headers = [("Content-Type", openrosa.XML_CONTENT_TYPE),
                        ("X-OpenRosa-Version", openrosa.OPENROSA_VERSION),
                        ("X-OpenRosa-Accept-Content-Length", str(self.max_body))]

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        try:
            taken = self._taken(environ)
        except Exception as error:  # the database away when the token must be read
            _handing_over(error)
            taken = None
        if taken is None:
            return self.flask_app(environ, start_response)
        user, device_id = taken
        try:
            body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        except Exception as error:  # sent too slowly (``server.request_pace``), or cut off
            environ["wsgi.input"] = _Failed(error)  # Flask's road answers it, as ever
            return self.flask_app(environ, start_response)
        try:
            state, receipt = self._submit(environ, body, user, device_id)
        except Exception as error:  # a refusal, or the database away: the view answers
            _handing_over(error)
            environ["wsgi.input"] = io.BytesIO(body)
            return self.flask_app(environ, start_response)
        rid = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response("201 CREATED", [*self.headers, ("Content-Length", str(len(receipt))),
                                       ("X-Submission-State", str(state)),
                                       ("X-Request-Id", rid)])
        log_request(rid, user.id, "POST", ROUTE, 201, started)
        return [receipt]

    def _taken(self, environ) -> tuple[Principal, str | None] | None:
        """The token's user and the device id, if the short road takes this request."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        match = _TOKEN_SUBMISSION.match(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        length = environ.get("CONTENT_LENGTH", "")
        if not length.isdigit() or int(length) > min(BUFFERED_BYTES, self.max_body):
            return None
        mimetype, _ = parse_options_header(environ.get("CONTENT_TYPE", ""))
        if mimetype != "multipart/form-data":
            return None
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if any(name != "deviceID" for name, _ in query):
            return None
        with _Reads(self.database) as reads:  # only a token the cache does not know is read
            user = user_by_token(self.database.engine, match.group(1), reads.session)
        if user is None:
            return None
        return user, query[0][1] if query else None

    def _submit(self, environ, body: bytes, user: Principal,
                device_id: str | None) -> tuple[str, bytes]:
        """Store the submission and make its receipt. Raises at any refusal (``Handover``,
        ``AppError``) or failure, with nothing of it kept: Flask's road does it again and
        keeps what it must."""
        try:
            _, _, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)},
                                          max_form_memory_size=self.max_form_memory,
                                          max_content_length=self.max_body,
                                          max_form_parts=self.max_form_parts)
        except HTTPException as error:  # too many parts, a field too large: Flask's 413
            raise Handover from error
        xml_part = files.get("xml_submission_file")
        if xml_part is None:
            raise Handover
        xml, xml_size = read_capped(xml_part.stream, self.max_xml)
        uploads = [UploadedFile(part.filename or key, part.stream, part.mimetype)
                   for key, part in files.items(multi=True) if key != "xml_submission_file"]
        with writing():  # on SQLite, the write lock at BEGIN, as for any POST
            unit = self.database.unit_of_work()
            try:
                result = ingest_submission(unit.session, self.store, user, xml, uploads,
                                           device_id, self.take_in, xml_size)
                unit.commit()  # stored; the inline take-in follows the commit
            except Exception:
                unit.discard()  # nothing kept here: the view does it all again
                raise
            finally:
                unit.close()
        with _Reads(self.database) as reads:  # only a receipt that lists problems reads
            return answer(result, reads.session)


def _handing_over(error: Exception) -> None:
    """Log why a request the short road took goes to Flask: not for a refusal of the catalogue
    nor for the database or the media store away (Flask's road answers and logs those as
    ever); for anything else, in a line of its own."""
    if not (isinstance(error, Handover | AppError | MediaStoreUnavailable)
            or unavailable(error)):
        log.warning("the short road handed a submission to Flask after %s: %s",
                    type(error).__name__, error)


class _Failed:
    """A request body whose reading failed: every read raises that error again."""

    def __init__(self, error: Exception):
        self.error = error

    def read(self, *_args):
        raise self.error

    readline = read


class _Reads:
    """A unit of work that only reads, opened the first time ``session()`` is called (most
    requests never call it), and ended with the ``with`` block."""

    def __init__(self, database: Database):
        self.database = database
        self.unit = None

    def session(self):
        if self.unit is None:
            self.unit = self.database.unit_of_work(statementwise=True)
        return self.unit.session

    def __enter__(self) -> _Reads:
        return self

    def __exit__(self, *exc) -> None:
        if self.unit is not None:
            self.unit.__exit__(*exc)


def install(app: Flask) -> None:
    """Put the short road in front of the Flask app (inside any proxy or body middleware that
    wraps ``app.wsgi_app`` later)."""
    app.wsgi_app = SubmissionShortcut(app, app.wsgi_app)

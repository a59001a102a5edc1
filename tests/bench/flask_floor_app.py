"""The FLASK FLOOR of the submission benchmark: the floor's work, inside a minimal Flask app.

Exactly what ``tests/bench/floor_app.py`` does per ``POST …/submission`` — werkzeug's multipart
parser with our server's decoder (here reached through ``request.files``, with the same 100 MB
limit and Flask's default part limit), the ``xml_submission_file`` part read, other file parts
read and discarded, the instanceID taken out with the same regex, one autocommitted ``INSERT …
ON CONFLICT DO NOTHING`` on a psycopg 3 connection per worker thread, and the same tiny 201
OpenRosa response — but routed and answered by Flask (one app, one URL rule with the token as a
path variable, ``Response`` objects). No blueprint, no hooks, no SQLAlchemy, no authentication.

So the benchmark can tell how much of the gap between our server and the bare-WSGI floor is the
framework itself and how much is our own code. ``FLOOR_DATABASE_URL`` is a libpq URL; the table is
the floor's ``raw_submissions``.
"""

from __future__ import annotations

import os
import re
import threading

import psycopg
from flask import Flask, Response, request

from server import multipart

multipart.install()  # the decoder our server parses with

DSN = os.environ["FLOOR_DATABASE_URL"]
MAX_CONTENT_LENGTH = 100 * 1024 * 1024  # our server's MAX_SUBMISSION_BYTES default
INSTANCE_ID = re.compile(rb"<(?:\w+:)?instanceID>\s*([^<\s]+)\s*</(?:\w+:)?instanceID>")
INSERT = (
    "INSERT INTO raw_submissions (instance_id, xml) VALUES (%s, %s) "
    "ON CONFLICT (instance_id) DO NOTHING"
)
CHUNK = 64 * 1024
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
_SUCCESS = (
    b'<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
    b'<message nature="submit_success">OK</message></OpenRosaResponse>'
)

_local = threading.local()

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(DSN, autocommit=True)
        _local.conn = conn
    return conn


def _xml(body: bytes, status: int) -> Response:
    response = Response(body, status=status, content_type=XML_CONTENT_TYPE)
    response.headers["X-OpenRosa-Version"] = "1.0"
    return response


def _error(status: int, message: str) -> Response:
    return _xml(
        f'<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f"<message>{message}</message></OpenRosaResponse>".encode(),
        status,
    )


@app.get("/health")
def health():
    return {"status": "ok"}


@app.route("/key/<token>/submission", methods=["HEAD"])
def submission_head(token: str):
    return Response(status=204, headers={"X-OpenRosa-Version": "1.0"})


@app.post("/key/<token>/submission")
def submission(token: str):  # the token is ignored, as by the floor
    xml_part = request.files.get("xml_submission_file")
    if xml_part is None:
        return _error(400, "no xml_submission_file")
    xml = xml_part.read()
    for key, part in request.files.items(multi=True):
        if key != "xml_submission_file":
            while part.stream.read(CHUNK):  # the floor does not store media
                pass
    match = INSTANCE_ID.search(xml)
    if match is None:
        return _error(400, "no instanceID")
    _connection().execute(INSERT, (match.group(1).decode(), xml.decode("utf-8")))
    return _xml(_SUCCESS, 201)

"""The FLOOR of the submission benchmark: the least a Python server must do per submission.

A bare WSGI callable, no web framework, served by the same gunicorn settings as our app. Per
``POST …/submission`` it:

* parses the multipart body with ``werkzeug.formparser.parse_form_data(environ)`` — the very
  parser Flask's ``request.files`` uses, with Flask's default part limit, and the decoder our
  server installs in it (``server.multipart``: no pattern compiled per request) — so the floor
  pays the same parsing cost as our server (file parts over 500 KB spool to temporary files in
  both);
* reads the ``xml_submission_file`` part and takes the instanceID out with a regex (no XML
  parsing, no authentication: the token in the URL is ignored);
* reads every other file part to the end and DISCARDS it: the floor does not store media;
* INSERTs the raw XML into ``raw_submissions`` in one autocommitted statement (one durable
  commit per submission, as our server makes) on a psycopg 3 connection of its own per worker
  thread (``threading.local``; psycopg_pool is not installed);
* answers 201 with a tiny OpenRosa response.

``FLOOR_DATABASE_URL`` is a libpq URL (``postgresql://postgres@127.0.0.1:PORT/floor``). The table:
``CREATE TABLE raw_submissions (id bigserial primary key, instance_id text unique, xml text,
received_at timestamptz default now())``.
"""

from __future__ import annotations

import os
import re
import threading

import psycopg
from werkzeug.formparser import parse_form_data

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

_local = threading.local()

_SUCCESS = (
    b'<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
    b'<message nature="submit_success">OK</message></OpenRosaResponse>'
)
_XML_HEADERS = [("Content-Type", "text/xml; charset=utf-8"), ("X-OpenRosa-Version", "1.0")]


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(DSN, autocommit=True)
        _local.conn = conn
    return conn


def _answer(start_response, status: str, body: bytes, headers=()):
    start_response(status, [*_XML_HEADERS, ("Content-Length", str(len(body))), *headers])
    return [body]


def _error(start_response, status: str, message: str):
    body = (
        f'<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f"<message>{message}</message></OpenRosaResponse>"
    ).encode()
    return _answer(start_response, status, body)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "/health":
        body = b'{"status": "ok"}'
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]
    if not path.endswith("/submission"):
        return _error(start_response, "404 Not Found", "not found")
    if method == "HEAD":
        start_response("204 No Content", [("X-OpenRosa-Version", "1.0")])
        return []
    if method != "POST":
        return _error(start_response, "405 Method Not Allowed", "method not allowed")

    _stream, _form, files = parse_form_data(
        environ, max_content_length=MAX_CONTENT_LENGTH, max_form_parts=1000
    )
    xml_part = files.get("xml_submission_file")
    if xml_part is None:
        return _error(start_response, "400 Bad Request", "no xml_submission_file")
    xml = xml_part.read()
    for key, part in files.items(multi=True):
        if key != "xml_submission_file":
            while part.stream.read(CHUNK):  # the floor does not store media
                pass
    match = INSTANCE_ID.search(xml)
    if match is None:
        return _error(start_response, "400 Bad Request", "no instanceID")
    _connection().execute(INSERT, (match.group(1).decode(), xml.decode("utf-8")))
    return _answer(start_response, "201 Created", _SUCCESS)

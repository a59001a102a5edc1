"""The OpenRosa endpoints ODK Collect talks to: formList, form, manifest, media, submission.

The blueprint is registered twice: at ``/`` (HTTP Basic, for use behind TLS) and at
``/key/<token>`` (the token in the URL is the credential, as with ODK Central's App Users).
Handlers parse, authenticate, call one service and render; errors render as OpenRosaResponse.
"""

from __future__ import annotations

import functools
import hashlib
import logging

from flask import Blueprint, Flask, Response, current_app, g, request, url_for
from sqlalchemy import select

from media.uploads import UploadedFile, read_capped
from server import db
from server.accounts.login import basic_login
from server.auth import Principal, user_by_token
from server.errors import AppError, add_retry_after, limit_body, register_renderer
from server.forms.models import Form, FormVersion
from server.lists.services import fold, fold_due, list_counts
from server.submissions.services import ingest_submission
from sync import attachments, openrosa, shortcut
from sync.receipts import answer

log = logging.getLogger(__name__)
bp = Blueprint("openrosa", __name__)
_SUBMISSION_ENDPOINTS = {"submission", "submission_head"}


# --- authentication -------------------------------------------------------------------------


@bp.url_value_preprocessor
def _pop_token(_endpoint, values):
    g.collect_token = values.pop("token", None) if values else None


@bp.url_defaults
def _keep_token(endpoint, values):
    if g.get("collect_token") and endpoint.startswith("openrosa_key."):
        values.setdefault("token", g.collect_token)


@bp.before_request
def _authenticate():
    if g.collect_token is None:
        g.user = basic_login(request.authorization)
        return
    user = user_by_token(db.database().engine, g.collect_token, db.session)
    if user is None:
        raise AppError("AUTH_INVALID")
    g.user = user


def _user() -> Principal:
    return g.user


# --- responses ------------------------------------------------------------------------------


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=openrosa.XML_CONTENT_TYPE)


@bp.after_request
def _openrosa_headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = openrosa.OPENROSA_VERSION
    if request.endpoint and request.endpoint.rsplit(".", 1)[-1] in _SUBMISSION_ENDPOINTS:
        limit = current_app.config["MAX_SUBMISSION_BYTES"]
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(limit)
    return response


def render_error(error: AppError) -> Response:
    response = _xml(openrosa.response(error.message), error.status)
    response.headers["X-Error-Code"] = error.code  # the catalogue code, for scripts and tests
    # (also set after the request; an outage's answer made at the commit comes after that)
    response.headers["X-OpenRosa-Version"] = openrosa.OPENROSA_VERSION
    if error.status == 401 and g.get("collect_token") is None:
        response.headers["WWW-Authenticate"] = 'Basic realm="fangpin", charset="UTF-8"'
    return add_retry_after(error, response)


# --- forms ----------------------------------------------------------------------------------


@bp.get("/formList")
@db.reads_only
def form_list():
    user = _user()
    entries = []
    if user.collects:
        forms = db.session().scalars(select(Form).order_by(Form.id)).all()
        for form in forms:
            if form.current_version is None:
                continue
            version = form.current_version
            if request.args.get("formID") and request.args["formID"] != form.id:
                continue
            urls = {"form_id": form.id, "version": version.version, "_external": True}
            entries.append(openrosa.FormListEntry(
                form_id=form.id,
                name=form.title,
                version=version.version,
                md5=version.md5,
                download_url=url_for(".form_xml", **urls),
                manifest_url=url_for(".manifest", **urls) if version.media else None,
            ))
    return _xml(openrosa.form_list(entries))


def _version(form_id: str, version: str, what=FormVersion):
    """The form version (or ``what`` of it: a column, so as not to read the form's XML)."""
    if not _user().collects:
        raise AppError("FORM_NOT_ALLOWED", form_id=form_id)
    found = db.session().execute(
        select(what).where(FormVersion.form_id == form_id, FormVersion.version == version)
    ).first()
    if found is None:
        raise AppError("FORM_VERSION_UNKNOWN", form_id=form_id, version=version)
    return found[0]


@bp.get("/forms/<form_id>/versions/<version>/form.xml")
@db.reads_only
def form_xml(form_id: str, version: str):
    return _xml(_version(form_id, version).xml)


# --- the generated attachments: the manifest and the download --------------------------------
#
# What Collect does with the manifest's hashes (getodk/collect, 2026-08, commit 137f3259;
# docs/protocol.md "The phones' lists"):
# - an entity list (type="entityList"): ServerFormUseCases.downloadMediaFiles (ServerFormUseCases
#   .kt:164-217) downloads it only when the manifest's hash differs from the one it stored with
#   the list (EntitiesRepository.getList(..).hash), and LocalEntityUseCases
#   .updateLocalEntitiesFromServer (LocalEntityUseCases.kt:102-166) stores the manifest's hash;
#   the downloaded content's md5 is never computed. So that hash can be a version: ours is the md5
#   of the list's change count in the user's scope and what of the user the content depends on
#   (sync.attachments.version_key), as ODK Central's is the md5 of the dataset's latest audit
#   time (central-backend lib/model/query/datasets.js:847-872), and it is also the download's
#   ETag (Central: lib/resources/forms.js:69, lib/util/http.js:122-128).
# - a plain media file: areNewerMediaFilesAvailable (ServerFormUseCases.kt:313-328) and
#   downloadMediaFiles (:219-239) compare the manifest's hash with the md5 of the file the phone
#   holds: a hash that is not the content's md5 would make Collect fetch the file at every check.
#   So areas.csv and figures.csv keep their content's md5, built once per version key and kept
#   (sync.attachments.ContentDigests), never once per request.


def _digests() -> attachments.ContentDigests:
    return current_app.extensions["fangpin.list_digests"]


def _plain_digest(name: str, user: Principal, key: str) -> str:
    digest = _digests().get(key)
    if digest is None:
        digest = hashlib.md5(attachments.generate(db.session(), name, user)).hexdigest()
        _digests().put(key, digest)
    return digest


def _media_names(form_id: str, version: str) -> tuple[str, ...]:
    """A version's attachments. A published version never changes (``server.forms.services
    .publish``), so each process reads them once per version: the manifest, which every phone
    asks for every few minutes, is left with the one query of its lists' counts."""
    if not _user().collects:
        raise AppError("FORM_NOT_ALLOWED", form_id=form_id)
    known: dict[tuple[str, str], tuple[str, ...]] = current_app.extensions["fangpin.form_media"]
    names = known.get((form_id, version))
    if names is None:
        names = known[form_id, version] = tuple(_version(form_id, version, FormVersion.media))
    return names


@bp.get("/forms/<form_id>/versions/<version>/manifest")
@db.reads_only
def manifest(form_id: str, version: str):
    media_names = _media_names(form_id, version)
    user = _user()
    counts = list_counts(db.session(), user.area_code)
    files = []
    for name in media_names:
        if name not in attachments.GENERATORS:
            continue
        key = attachments.version_key(name, user, counts)
        entity_list = name in attachments.ENTITY_LISTS
        files.append(openrosa.MediaFile(
            filename=name,
            md5=attachments.version_hash(key) if entity_list else _plain_digest(name, user, key),
            download_url=url_for(".media", form_id=form_id, version=version, name=name,
                                 _external=True),
            entity_list=entity_list,
        ))
    response = _xml(openrosa.manifest(files))
    if fold_due(counts):  # after the answer has gone: the phone does not wait for it
        response.call_on_close(functools.partial(_fold, db.database()))
    return response


def _fold(database) -> None:
    try:
        with db.writing(), database.unit_of_work() as unit:
            fold(unit.session)
    except Exception:  # the next manifest asks again; nothing is lost meanwhile
        log.exception("folding the lists' changes failed")


@bp.get("/forms/<form_id>/versions/<version>/media/<name>")
def media(form_id: str, version: str, name: str):
    if name not in _media_names(form_id, version) \
            or name not in attachments.GENERATORS:
        raise AppError("MEDIA_NOT_FOUND", form_id=form_id, name=name)
    user = _user()
    key = attachments.version_key(name, user, list_counts(db.session(), user.area_code))
    if name in attachments.ENTITY_LISTS:
        etag = attachments.version_hash(key)
        if request.if_none_match.contains_weak(etag):
            return _not_modified(etag)
        database = db.database()

        def chunks():  # after the request's unit of work has ended: a unit of its own
            with database.unit_of_work() as unit:
                yield from attachments.STREAMED[name](unit.session, user)

        response = Response(chunks(), content_type=_CSV)
    else:
        cached = _digests().get(key)
        if cached is not None and request.if_none_match.contains_weak(cached):
            return _not_modified(cached)
        content = attachments.generate(db.session(), name, user)
        etag = hashlib.md5(content).hexdigest()
        _digests().put(key, etag)
        response = Response(content, content_type=_CSV)
    response.set_etag(etag)
    return response


_CSV = "text/csv; charset=utf-8"


def _not_modified(etag: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    return response


# --- submissions ----------------------------------------------------------------------------


@bp.route("/submission", methods=["HEAD"])
def submission_head():
    return Response(status=204)


@bp.post("/submission")
def submission():
    # The authentication may have read the database: end that unit now, so that no pooled
    # connection (nor, on SQLite, the write lock a POST takes) waits while a slow phone or a
    # hostile client sends the body; storing it is a unit of its own.
    db.commit()
    limit_body(current_app.config["MAX_SUBMISSION_BYTES"])
    if request.mimetype != "multipart/form-data":
        raise AppError("SUBMISSION_NOT_MULTIPART")
    xml_part = request.files.get("xml_submission_file")
    if xml_part is None:
        raise AppError("SUBMISSION_NO_XML")
    xml, xml_size = read_capped(xml_part.stream, current_app.config["MAX_XML_BYTES"])
    files = [
        UploadedFile(part.filename or key, part.stream, part.mimetype)
        for key, part in request.files.items(multi=True)
        if key != "xml_submission_file"
    ]
    result = ingest_submission(db.session(), current_app.extensions["fangpin.media"], _user(),
                               xml, files, request.args.get("deviceID"),
                               current_app.extensions["fangpin.take_in"], xml_size)
    db.commit()  # stored; the take-in (inline) follows the commit, and the receipt tells it
    state, receipt = answer(result, db.session)
    response = _xml(receipt, 201)
    response.headers["X-Submission-State"] = str(state)  # what the server made of it, for scripts
    return response


def init_app(app: Flask) -> None:
    app.extensions["fangpin.list_digests"] = attachments.ContentDigests()
    app.extensions["fangpin.form_media"] = {}  # (form id, version) → its attachments' names
    register_renderer("openrosa", render_error)
    app.register_blueprint(bp)
    app.register_blueprint(bp, url_prefix="/key/<token>", name="openrosa_key")
    shortcut.install(app)  # in front of Flask; the factory's ProxyFix wraps it later

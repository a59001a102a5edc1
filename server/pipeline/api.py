"""REST: cases of the two procedures (list, read, open, act), their steps and signatures,
objections, monitoring contacts, bulk actions and green-channel measures.

Safe concurrent edits: ``GET /cases/<id>`` answers with an ETag made of the case's last event
(every action writes one, so it changes on every action); ``POST /cases/<id>/actions`` needs
``If-Match`` with it (428 without, 412 when the case moved since), checked while the case row
is locked, so two supervisors cannot both act on a stale view. ``If-Match: *`` matches any
version (RFC 9110). Bulk actions take no ETag: each case is checked by the rules as it is then.
"""

from __future__ import annotations

import re

from flask import current_app, request, send_file, url_for
from flask.views import MethodView

from media.store import MediaNotFound
from media.uploads import UploadedFile
from server import db
from server.clock import today
from server.domain.catalogue import is_rule
from server.domain.pipeline import STEP_NAMES, Action, Procedure, Signer, Step
from server.errors import AppError, limit_body
from server.pipeline import green_channel, queries, services, signatures
from server.pipeline.models import Case
from server.pipeline.schemas import (
    BulkActionSchema,
    BulkResultSchema,
    CaseActionFormSchema,
    CaseActionSchema,
    CaseCreateSchema,
    CaseEventSchema,
    CaseQueryArgsSchema,
    CaseSchema,
    CaseSignatureSchema,
    ContactAssignSchema,
    ContactSchema,
    MeasureCreateSchema,
    MeasureSchema,
    ObjectionCloseSchema,
    ObjectionCreateSchema,
    ObjectionSchema,
)
from server.rest import (
    blueprint,
    current_user,
    errors,
    file_download,
    one_page,
    shown_phone,
)

bp = blueprint("cases", __name__, "/cases", "识别和风险消除程序的案件")

_MEDIA_KEY = re.compile(r"[0-9a-f]{64}")
# The multipart parts of signatures by signer: ``signature_<Signer value>`` → the value.
SIGNATURE_PARTS = {f"signature_{s.value}": s.value for s in Signer}
# A 422 is either a field validation error (flask-smorest's shape, ``errors``) or a rule of
# the catalogue (``code``, e.g. SIGNATURE_NOT_IMAGE, MEASURE_INVALID).
_UNPROCESSABLE = {"anyOf": [{"$ref": "#/components/schemas/Error"},
                            {"$ref": "#/components/schemas/CatalogueError"}]}


def unprocessable(view):
    return bp.alt_response(422, schema=_UNPROCESSABLE,
                           description="输入无效：字段校验错误（errors）或规则错误（code）")(view)


def _readable_case(case_id: int) -> Case:
    return queries.readable_case(db.session(), current_user(), case_id)


def _etag_data(case: Case, version: int) -> dict:
    """What the case's ETag is made of: its id and its version (``services.case_version``)."""
    return {"case": case.id, "version": version}


def _etag(case: Case, version: int) -> str:
    # flask-smorest's own hash of the data, as set_etag() puts it in the ETag header.
    return bp._generate_etag(_etag_data(case, version))


def _action_body() -> tuple[dict, list[UploadedFile], list[UploadedFile],
                            list[tuple[str, UploadedFile]]]:
    """The action's fields from JSON or multipart/form-data, the signature files that name no
    signer (``signature``), the attachments, and the signatures by signer
    (``signature_<signer>``, e.g. ``signature_village_secretary``: see ``SIGNATURE_PARTS``).
    The request's size limit (MAX_SUBMISSION_BYTES) bounds every file in it."""
    parser = bp.ARGUMENTS_PARSER
    if request.mimetype != "multipart/form-data":
        return parser.parse(CaseActionSchema, request, location="json"), [], [], []
    limit_body(current_app.config["MAX_SUBMISSION_BYTES"])
    others = sorted(set(request.files) - {"signature", "attachment", *SIGNATURE_PARTS})
    if others:
        raise AppError("SIGNATURE_PART_UNKNOWN", part=others[0],
                       signers="、".join(SIGNATURE_PARTS))
    data = parser.parse(CaseActionSchema, request, location="form")

    def files(field: str) -> list[UploadedFile]:
        return [UploadedFile(part.filename or "", part.stream, part.mimetype)
                for part in request.files.getlist(field)]

    signed = [(signer, f) for part, signer in SIGNATURE_PARTS.items() for f in files(part)]
    return data, files("signature"), files("attachment"), signed


def _signature_url(case_id: int, key: str) -> str:
    return url_for("cases.CaseSignature", case_id=case_id, key=key)


def _attachment_link(case_id: int, attachment: dict) -> dict:
    return {**attachment, "url": url_for("cases.CaseAttachment", case_id=case_id,
                                         key=attachment["key"])}


@bp.route("")
class Cases(MethodView):
    @bp.arguments(CaseQueryArgsSchema, location="query")
    @bp.response(200, CaseSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """案件列表（本辖区）"""
        session, now = db.session(), today()
        query = queries.cases_query(session, current_user(), args, now)
        return queries.case_views(session,
                                  session.scalars(one_page(query, pagination_parameters)).all(),
                                  now)

    @bp.arguments(CaseCreateSchema)
    @bp.response(201, CaseSchema)
    @errors(bp, 404, 409)
    def post(self, data):
        """开启案件"""
        session = db.session()
        case = services.open_household_case(session, Procedure(data["procedure"]),
                                            data["household_id"], current_user(),
                                            origin=data["origin"])
        return queries.case_view(session, case, today())


@bp.route("/<id:case_id>")
class CaseById(MethodView):
    @bp.etag
    @bp.response(200, CaseSchema)
    @errors(bp, 404)
    def get(self, case_id):
        """案件详情

        响应头 ETag 标识案件当前版本（每次办理都会改变）；办理时须在 If-Match 中带上它。
        """
        session = db.session()
        case = _readable_case(case_id)
        bp.set_etag(_etag_data(case, services.case_version(session, case)))
        return queries.case_view(session, case, today())


@bp.route("/<id:case_id>/actions")
class CaseActions(MethodView):
    @bp.etag
    @bp.doc(parameters=["IF_MATCH"], requestBody={"required": True, "content": {
        "application/json": {"schema": CaseActionSchema},
        "multipart/form-data": {"schema": CaseActionFormSchema}}})
    @bp.response(200, CaseSchema)
    @unprocessable
    @errors(bp, 400, 404, 409, 412, 413, 428)
    def post(self, case_id):
        """办理当前环节：通过、退回（须理由）或驳回（须理由）

        须带 If-Match 请求头（读取案件时得到的 ETag）：缺少时 428，案件已被他人办理时 412。
        请求体为 JSON，或 multipart/form-data（同样的字段，另加签名图片，最多10个：按签字人
        命名的 `signature_applicant` 申请人（附件1）、`signature_household_head` 户主（附件5）、
        `signature_village_secretary` 村支部书记、`signature_township_secretary` 乡镇党委书记、
        `signature_township_head` 乡镇长，或不指明签字人的 `signature`；以及一个或多个
        `attachment` 附件，如公示照片、评议会议记录、盖章的附件3，图片或 PDF，最多10个）。
        须签字的环节（附件1：提交申请；附件3/附件5：公示结束由村支部书记、乡镇审核由乡镇党委
        书记和乡镇长；风险消除入户核实由户主）缺少签字时 409（code SIGNATURE_MISSING，
        details.missing 列出缺少的签字人）；规则拒绝时 409，code 为规则的代码（见
        GET /api/v1/error-codes）；手机表单中的申请人、户主签名同样有效。
        签名文件不是图片、附件不是图片或 PDF 时 422，本次办理不保存。响应头 ETag 为办理后的
        新版本。
        """
        if not request.if_match:
            raise AppError("CASE_IF_MATCH_REQUIRED")
        data, uploads, attachments, signed = _action_body()
        session, user, now = db.session(), current_user(), today()
        # One lock and one version read per action: the version after it is the new event's.
        case = services.lock_case(session, case_id, user)
        if _etag(case, services.case_version(session, case)) not in request.if_match:
            raise AppError("CASE_CHANGED")
        version = signatures.act_signed(session, current_app.extensions["fangpin.media"], case,
                                        Action(data["action"]), user, now, data["opinion"],
                                        uploads, attachments, signed)
        bp.set_etag(_etag_data(case, version))
        return queries.case_view(session, case, now)


@bp.route("/bulk-actions")
class BulkActions(MethodView):
    @bp.arguments(BulkActionSchema)
    @bp.response(200, BulkResultSchema)
    @errors(bp, 400, 403)
    def post(self, data):
        """批量办理（乡镇、县级）：每件案件单独按规则校验并记录

        一次最多200件；某件失败不影响其他案件。响应逐件列出成功或失败（错误代码、规则、中文原因）。
        批量办理不使用 ETag：每件案件按办理时的状态校验。
        """
        outcomes = services.bulk_act(db.session(), data["case_ids"], Action(data["action"]),
                                     current_user(), today(), data["opinion"])
        results = [{"case_id": o.case_id, "ok": o.error is None,
                    "step": o.case.step if o.case else None,
                    "status": o.case.status if o.case else None,
                    "code": o.error.code if o.error else None,
                    "rule": o.error.code if o.error and is_rule(o.error.code) else None,
                    "message": o.error.message if o.error else None} for o in outcomes]
        done = sum(r["ok"] for r in results)
        return {"action": data["action"], "succeeded": done, "failed": len(results) - done,
                "results": results}


@bp.route("/<id:case_id>/events")
class CaseEvents(MethodView):
    @bp.response(200, CaseEventSchema(many=True))
    @errors(bp, 404)
    def get(self, case_id):
        """案件办理记录（只增不改）：谁（编号、姓名、角色）、何时、何种办理、从哪一环节到哪一环节、意见、签名、
        附件"""
        case = _readable_case(case_id)
        return [{
            "id": event.id, "at": event.at, "action": event.action,
            "user": {"id": event.user_id, "name": name, "role": role},
            "from_step": event.from_step, "from_step_name": _step_name(event.from_step),
            "to_step": event.to_step, "to_step_name": _step_name(event.to_step),
            "status": event.status, "opinion": event.opinion,
            "signatures": [{**entry, "url": _signature_url(case.id, entry["key"])}
                           for entry in services.signature_entries(event.signatures)],
            "attachments": [_attachment_link(case.id, a) for a in event.attachments or ()],
        } for event, name, role in services.case_events(db.session(), case)]


def _step_name(step: str | None) -> str | None:
    return STEP_NAMES[Step(step)] if step in Step.__members__.values() else None


@bp.route("/<id:case_id>/signatures")
class CaseSignatures(MethodView):
    @bp.response(200, CaseSignatureSchema(many=True))
    @errors(bp, 404)
    def get(self, case_id):
        """案件的全部签名：办理时上传的，以及手机表单中的核实小组、申请人、户主签名"""
        case = _readable_case(case_id)
        return [{**vars(s), "url": _signature_url(case.id, s.key)}
                for s in signatures.case_signatures(db.session(), case)]


@bp.route("/<id:case_id>/signatures/<string(length=64):key>")
class CaseSignature(MethodView):
    @bp.doc(responses={"200": {"description": "签名图片", "content": {
        "image/*": {"schema": {"type": "string", "format": "binary"}}}}})
    @errors(bp, 404)
    def get(self, case_id, key):
        """下载案件的一个签名图片（只限本案件的签名）"""
        case = _readable_case(case_id)
        if not _MEDIA_KEY.fullmatch(key):
            raise AppError("NOT_FOUND")
        content_type = signatures.signature_content_type(db.session(), case, key)
        try:
            stream = current_app.extensions["fangpin.media"].open(key)
        except MediaNotFound as exc:
            raise AppError("NOT_FOUND") from exc
        return send_file(stream, mimetype=content_type, download_name=key,
                         max_age=86400, etag=key)


@bp.route("/<id:case_id>/attachments/<string(length=64):key>")
class CaseAttachment(MethodView):
    @bp.doc(responses={"200": {"description": "附件文件（图片或 PDF），按其类型返回", "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    @errors(bp, 404)
    @db.writes
    def get(self, case_id, key):
        """下载案件办理时上传的一个附件（只限本案件的附件；以上传时的文件名下载；记入审计日志）"""
        case = _readable_case(case_id)
        if not _MEDIA_KEY.fullmatch(key):
            raise AppError("NOT_FOUND")
        attachment = signatures.download_attachment(db.session(), case, key, current_user())
        store = current_app.extensions["fangpin.media"]
        try:
            size = store.size(key)
            stream = store.open(key)
        except MediaNotFound as exc:
            raise AppError("NOT_FOUND") from exc
        return file_download(stream, size, attachment["content_type"], attachment["name"])


@bp.route("/<id:case_id>/objections")
class CaseObjections(MethodView):
    @bp.response(200, ObjectionSchema(many=True))
    @errors(bp, 404)
    def get(self, case_id):
        """公示期间的异议"""
        return services.case_objections(db.session(), _readable_case(case_id))

    @bp.arguments(ObjectionCreateSchema)
    @bp.response(201, ObjectionSchema)
    @errors(bp, 404, 409)
    def post(self, data, case_id):
        """登记异议（只能在公示期间）；异议未核实办结前公示不能结束"""
        return services.raise_objection(db.session(), case_id, current_user(), data["text"])


@bp.route("/<id:case_id>/objections/<id:objection_id>/close")
class CaseObjectionClose(MethodView):
    @bp.arguments(ObjectionCloseSchema)
    @bp.response(200, ObjectionSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data, case_id, objection_id):
        """异议核实办结（村级及以上，须填写核实结果；只能办结一次）"""
        return services.close_objection(db.session(), objection_id, current_user(),
                                        data["result"], case_id=case_id)


@bp.route("/<id:case_id>/contacts")
class CaseContacts(MethodView):
    @bp.response(200, ContactSchema(many=True))
    @errors(bp, 404)
    def get(self, case_id):
        """该户的监测帮扶联系人（含已更换的，按时间顺序）"""
        case = _readable_case(case_id)
        return [_contact(c) for c in services.household_contacts(db.session(), case)]

    @bp.arguments(ContactAssignSchema)
    @bp.response(201, ContactSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data, case_id):
        """落实或更换该户的监测帮扶联系人（村级及以上）

        已有联系人时为更换，须填写理由（调动、退休、生病等）；联系人只能更换，不能删除
        （风险不消除，帮扶责任不脱钩）。
        """
        case = _readable_case(case_id)
        if case.household_id is None:
            raise AppError("CASE_NO_HOUSEHOLD")
        return _contact(services.assign_contact(
            db.session(), case.household_id, current_user(), data["name"], data["unit"],
            data["position"], data["phone"], data["reason"]))


def _contact(contact) -> dict:
    return {"id": contact.id, "household_id": contact.household_id, "name": contact.name,
            "unit": contact.unit, "position": contact.position,
            "phone": shown_phone(contact.phone), "assigned_at": contact.assigned_at,
            "assigned_by": contact.assigned_by, "current": contact.replaced_at is None,
            "replaced_at": contact.replaced_at, "replaced_reason": contact.replaced_reason}


@bp.route("/<id:case_id>/measures")
class CaseMeasures(MethodView):
    @bp.response(200, MeasureSchema(many=True))
    @errors(bp, 404)
    def get(self, case_id):
        """案件期间该户的帮扶措施；识别程序办结前录入的标为帮扶先行（绿色通道）

        措施表单录入的措施按录入日期归入案件（开启之日至办结之日）；在案件上登记的措施直接关联案件。
        """
        case = _readable_case(case_id)
        return [_measure(m) for m in green_channel.case_measures(db.session(), case)]

    @bp.arguments(MeasureCreateSchema)
    @bp.response(201, MeasureSchema)
    @unprocessable
    @errors(bp, 403, 404, 409)
    def post(self, data, case_id):
        """在未办结的案件上登记帮扶措施（村级、乡镇；识别程序中即帮扶先行）"""
        return _measure(green_channel.record_measure(db.session(), case_id, current_user(), today(),
                                                data["values"], data["measure_date"]))


def _measure(measure: green_channel.CaseMeasure) -> dict:
    row = measure.record
    return {"id": row.id, "household_id": row.household_id,
            "source": "form" if row.submission_id else "api",
            "submission_id": row.submission_id, "case_id": row.case_id,
            "measure_date": row.measure_date, "green_channel": measure.green_channel,
            "marked_green_channel": row.green_channel,
            "values": {k: str(v) for k, v in (row.values or {}).items()},
            "recorded_by": row.recorded_by, "created_at": row.created_at}

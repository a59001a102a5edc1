"""The error catalogue: a stable code, an HTTP status and a Chinese message naming the rule.

Code raises ``AppError("ID_CHECKSUM", field="A7")``; the handlers registered in ``init_app``
render it as JSON for the REST API and as an OpenRosaResponse for ODK Collect. Tests assert on
codes, never on message text.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)


@dataclass(frozen=True)
class ErrorKind:
    status: int
    message: str  # str.format template over the error's params


CATALOGUE: dict[str, ErrorKind] = {
    # authentication and access
    "AUTH_REQUIRED": ErrorKind(401, "需要登录：请提供用户名和密码，或使用带密钥的服务器地址"),
    "AUTH_INVALID": ErrorKind(401, "用户名、密码或密钥不正确，或已被停用"),
    "FORBIDDEN_ROLE": ErrorKind(403, "您的角色（{role}）无权进行此操作"),
    # user accounts (REST /users)
    "AREA_OUTSIDE_SCOPE": ErrorKind(403, "区划 {area_code} 不在您的辖区内"),
    "AREA_UNKNOWN": ErrorKind(400, "没有区划代码为 {area_code} 的区划"),
    "ROLE_NOT_GRANTABLE": ErrorKind(
        403, "您的角色（{role}）不能创建或管理“{target}”角色的用户：县级用户只能管理乡镇、村级和"
             "信息采集员账号"),
    "USERNAME_TAKEN": ErrorKind(409, "用户名“{username}”已被使用"),
    "USER_SELF": ErrorKind(409, "不能停用自己的账号"),
    "USER_INACTIVE": ErrorKind(409, "用户 {username} 已停用"),
    "TOKEN_NOT_FOR_ROLE": ErrorKind(
        409, "只有信息采集员和村级用户使用 ODK Collect 密钥（该用户为“{role}”）"),
    # forms
    "FORM_NOT_FOUND": ErrorKind(404, "服务器上没有表单“{form_id}”"),
    "FORM_VERSION_UNKNOWN": ErrorKind(
        404, "表单“{form_id}”没有版本“{version}”：请在 Collect 中更新空白表单后重新填写"
    ),
    "FORM_NOT_ALLOWED": ErrorKind(403, "您无权提交表单“{form_id}”"),
    "MEDIA_NOT_FOUND": ErrorKind(404, "表单“{form_id}”没有附件“{name}”"),
    # submissions
    "SUBMISSION_TOO_LARGE": ErrorKind(
        413, "提交内容过大（{size} 字节），服务器最多接受 {limit} 字节"
    ),
    "SUBMISSION_NO_XML": ErrorKind(400, "提交中缺少表单数据文件（xml_submission_file）"),
    "SUBMISSION_NOT_MULTIPART": ErrorKind(400, "提交必须是 multipart/form-data 格式"),
    "XML_MALFORMED": ErrorKind(400, "表单数据不是格式正确的 XML：{detail}"),
    "XML_FORBIDDEN": ErrorKind(400, "表单数据包含不允许的 XML 结构（DTD/实体声明），已拒绝"),
    "XML_NO_FORM_ID": ErrorKind(400, "表单数据的根元素缺少表单编号（id）"),
    "XML_NO_INSTANCE_ID": ErrorKind(400, "表单数据缺少 meta/instanceID"),
    "ATTACHMENT_NOT_IMAGE": ErrorKind(400, "附件“{name}”应为图片：{detail}"),
    "SUBMISSION_DUPLICATE_CONFLICT": ErrorKind(
        409, "编号为 {instance_id} 的提交已存在且内容不同；已保留首次提交的内容"
    ),
    # registry and review
    "CONFLICT_ALREADY_RESOLVED": ErrorKind(409, "冲突 {conflict_id} 已处理"),
    "CONFLICT_RESOLUTION_NOT_APPLICABLE": ErrorKind(
        409, "“{kind}”类冲突不能按“{resolution}”处理"),
    "SUBMISSION_NOT_REVIEWABLE": ErrorKind(
        409, "该提交当前状态为“{state}”，不能在此处理（冲突请在冲突处理中解决）"),
    "REASON_REQUIRED": ErrorKind(400, "退回、驳回、更换或办结必须填写理由"),
    # pipelines: the domain names the rule (server.domain.pipeline)
    "PIPELINE_RULE": ErrorKind(409, "{detail}"),
    "CASE_ALREADY_OPEN": ErrorKind(
        409, "该户已有未办结的案件（{case_id}）：一户同时只能有一件识别或风险消除案件"),
    "HOUSEHOLD_ALREADY_MONITORED": ErrorKind(
        409, "该户已是监测对象（识别已审定、尚未风险消除），不能再次启动识别程序"),
    "ELIMINATION_NOT_MONITORED": ErrorKind(
        409, "该户不是监测对象（未经识别审定或已风险消除）：风险消除程序只针对监测对象"),
    "ELIMINATION_PROPOSER": ErrorKind(
        403, "风险消除名单由村（居）“两委”和驻村工作队提出：只有村级用户可以启动风险消除程序"),
    # dynamic management: evaluations, sweeps, deadlines (server.domain.monitoring, deadlines)
    "DATE_IN_FUTURE": ErrorKind(400, "日期 {date} 晚于今天：只能登记已经完成的评估或排查"),
    "DATE_OUTSIDE_PERIOD": ErrorKind(
        400, "日期 {date} 不在 {period}（{start}至{end}）内：排查台账只登记本次排查半年内的核查"),
    "PERIOD_INVALID": ErrorKind(400, "期间“{period}”无效：季度写作如 2026Q3，半年写作如 2026H1"),
    "PERIOD_NOT_STARTED": ErrorKind(400, "{period} 尚未开始，没有应完成的评估"),
    "HOUSEHOLD_NOT_MONITORED": ErrorKind(
        409, "该户在 {date} 不是监测对象（未经识别认定或已风险消除）：帮扶成效评估只针对监测对象"),
    "SWEEP_AREA_LEVEL": ErrorKind(400, "集中排查以县（市区）或乡镇（街道）为单位开展"),
    "SWEEP_EXISTS": ErrorKind(
        409, "{area_code} 的 {period} 集中排查已经开启（{sweep_id}）：每半年一次"),
    "SWEEP_OVERLAPS": ErrorKind(
        409, "{period} 已有覆盖该范围的集中排查（{area_code}，{sweep_id}）：每户每半年只排查一次，"
             "只建一本排查台账；请在已开启的排查中登记"),
    "SWEEP_NOT_STARTED": ErrorKind(
        400, "{period} 尚未开始（{start} 起）：集中排查只能在该半年开始后开启"),
    "DEADLINE_INVALID": ErrorKind(400, "办理时限无效：{detail}"),
    "CASE_IF_MATCH_REQUIRED": ErrorKind(
        428, "办理案件须在 If-Match 请求头中带上读取案件时得到的 ETag，以免在过期的信息上办理"),
    "CASE_CHANGED": ErrorKind(
        412, "案件在您读取之后已被办理或更改（ETag 不符）：请重新读取案件后再办理"),
    "SIGNATURE_NOT_IMAGE": ErrorKind(
        422, "签名文件“{name}”不是有效的签名图片：{detail}；本次办理未保存"),
    "SIGNATURES_TOO_MANY": ErrorKind(422, "一次办理最多上传{limit}个签名文件"),
    "ATTACHMENT_NOT_ALLOWED": ErrorKind(
        422, "附件“{name}”不是允许的文件类型（只接受图片 JPEG/PNG/WebP/GIF 或 PDF 文件）："
             "{detail}；本次办理未保存"),
    "ATTACHMENTS_TOO_MANY": ErrorKind(422, "一次办理最多上传{limit}个附件"),
    "OBJECTION_CLOSED": ErrorKind(409, "异议 {objection_id} 已核实办结，不能再次办结"),
    "CASE_NO_HOUSEHOLD": ErrorKind(409, "该案件尚未关联农户，不能登记帮扶措施或联系人"),
    "MEASURE_INVALID": ErrorKind(422, "帮扶措施有误：{detail}"),
    # department warning lists (部门筛查预警)
    "WARNING_LIST_TOO_LARGE": ErrorKind(
        413, "预警名单文件过大（{size} 字节），最多接受 {limit} 字节：请分成几个文件上传"),
    "WARNING_LIST_UNREADABLE": ErrorKind(400, "预警名单文件无法读取：{detail}"),
    "WARNING_ALREADY_CHECKED": ErrorKind(
        409, "该预警任务已反馈过核查结果（{checked_at}），不能重复反馈"),
    "WARNING_RESULT_REQUIRED": ErrorKind(
        400, "请填写入户核查情况；结果为“无法核实”时须写明原因"),
    # generic
    "NOT_FOUND": ErrorKind(404, "找不到请求的资源"),
    "METHOD_NOT_ALLOWED": ErrorKind(405, "不支持此请求方法"),
    "BAD_REQUEST": ErrorKind(400, "请求无效：{detail}"),
    "INTERNAL": ErrorKind(500, "服务器内部错误，已记录"),
}


class AppError(Exception):
    """An error of the catalogue, with the values its message names."""

    def __init__(self, code: str, **params: object):
        if code not in CATALOGUE:
            raise KeyError(f"unknown error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return CATALOGUE[self.code].status

    @property
    def message(self) -> str:
        return CATALOGUE[self.code].message.format_map(_Lenient(self.params))


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "?"


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "SUBMISSION_TOO_LARGE"}

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
    response = jsonify(code=error.code, message=error.message, **_jsonable(error.params))
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="fangpin", charset="UTF-8"'
    return response


def _jsonable(params: dict) -> dict:
    return {"details": {k: str(v) for k, v in params.items()}} if params else {}


def init_app(app: Flask) -> None:
    app.register_error_handler(AppError, render)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = _HTTP_CODES.get(exc.code or 500)
        if code == "SUBMISSION_TOO_LARGE":  # the body outgrew limit_body's limit while read
            code, limit = g.get("body_limit", (code, app.config["MAX_SUBMISSION_BYTES"]))
            error = AppError(code, size=request.content_length or "?", limit=limit)
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


def limit_body(limit: int, code: str = "SUBMISSION_TOO_LARGE", overhead: int = 0) -> None:
    """The one request-size check (a submission, a case action's files, a warning list): a body
    declared larger than ``limit`` (+ ``overhead``, e.g. multipart framing around a file of at
    most ``limit`` bytes) is refused with the catalogue's ``code`` (a 413) before any of it is
    read; one sent without a length stops being read there, and answers with the same code."""
    if request.content_length is not None and request.content_length > limit + overhead:
        raise AppError(code, size=request.content_length, limit=limit)
    request.max_content_length = limit + overhead
    g.body_limit = (code, limit)

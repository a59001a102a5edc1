"""The error catalogue: a stable code, an HTTP status and a Chinese message naming the rule.

Code raises ``AppError("ID_CHECKSUM", field="A7")``; the handlers registered in ``init_app``
render it as JSON for the REST API and as an OpenRosaResponse for ODK Collect. Tests assert on
codes, never on message text.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException


@dataclass(frozen=True)
class ErrorKind:
    status: int
    message: str  # str.format template over the error's params


CATALOGUE: dict[str, ErrorKind] = {
    # authentication and access
    "AUTH_REQUIRED": ErrorKind(401, "需要登录：请提供用户名和密码，或使用带密钥的服务器地址"),
    "AUTH_INVALID": ErrorKind(401, "用户名、密码或密钥不正确，或已被停用"),
    "FORBIDDEN_ROLE": ErrorKind(403, "您的角色（{role}）无权进行此操作"),
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
    "ATTACHMENT_UNEXPECTED": ErrorKind(400, "附件“{name}”不是此表单数据中引用的文件"),
    "ATTACHMENT_NOT_IMAGE": ErrorKind(400, "附件“{name}”应为图片：{detail}"),
    "SUBMISSION_DUPLICATE_CONFLICT": ErrorKind(
        409, "编号为 {instance_id} 的提交已存在且内容不同；已保留首次提交的内容"
    ),
    # registry and review
    "CONFLICT_ALREADY_RESOLVED": ErrorKind(409, "冲突 {conflict_id} 已处理"),
    "SUBMISSION_NOT_REVIEWABLE": ErrorKind(
        409, "该提交当前状态为“{state}”，不能在此处理（冲突请在冲突处理中解决）"),
    "REASON_REQUIRED": ErrorKind(400, "退回、驳回、更换或办结必须填写理由"),
    # pipelines: the domain names the rule (server.domain.pipeline)
    "PIPELINE_RULE": ErrorKind(409, "{detail}"),
    "CASE_ALREADY_OPEN": ErrorKind(409, "该户已有未办结的同类案件（{case_id}）"),
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
        if code == "SUBMISSION_TOO_LARGE":
            error = AppError(code, size=request.content_length or "?",
                             limit=app.config["MAX_SUBMISSION_BYTES"])
        elif code:
            error = AppError(code)
        else:
            error = AppError("BAD_REQUEST", detail=exc.description)
        response = render(error)
        response.status_code = exc.code or error.status
        return response

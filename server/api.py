"""The REST API (flask-smorest): one place for authentication, area scope and error docs.

Every API blueprint is made with ``blueprint()``, which authenticates the request before any
view runs (HTTP Basic with the user's password; production runs behind TLS) and documents the
error responses. Views read ``current_user()`` and narrow their queries with ``in_area()``.
The OpenAPI document is served at ``/api/openapi.json``.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.sql import ColumnElement

from server import db
from server.accounts.models import Role
from server.auth import Principal, user_by_password
from server.errors import AppError

PREFIX = "/api/v1"
# Roles that see full ID numbers and phone numbers; the others see them masked.
UNMASKED_ROLES = frozenset({Role.COUNTY, Role.ADMIN})


class Text(fields.String):
    """A string field that refuses NUL characters (PostgreSQL cannot store them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("不能包含空字符（\\x00）")
        return text


AREA_CODE = validate.Regexp(r"^[0-9]{4,15}$", error="区划代码应为4–15位数字")
HOUSEHOLD_ID = validate.Regexp(r"^[0-9a-f-]{36}$", error="农户编号应为36位 UUID")


class CatalogueErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "错误代码（稳定）"})
    message = fields.String(required=True, metadata={"description": "中文说明"})
    details = fields.Dict(keys=fields.String(), values=fields.String())


def _authenticate() -> None:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        raise AppError("AUTH_REQUIRED")
    user = user_by_password(db.session(), auth.username or "", auth.password or "")
    if user is None:
        raise AppError("AUTH_INVALID")
    g.user = user


def current_user() -> Principal:
    return g.user


def in_area(column: ColumnElement) -> ColumnElement:
    """The condition "inside the current user's area" on an area-code column."""
    return column.startswith(current_user().area_code, autoescape=True)


def sees_personal_data() -> bool:
    return current_user().role in UNMASKED_ROLES


def one_page(query: Select, pagination) -> Select:
    """Count ``query`` for the X-Pagination header and cut out the requested page.

    The offset is bounded (a generated ``page=10**18`` must not overflow the database's
    integers): past the last page the answer is simply empty.
    """
    pagination.item_count = db.session().scalar(select(func.count())
                                                .select_from(query.subquery()))
    offset = min((pagination.page - 1) * pagination.page_size, _MAX_OFFSET)
    return query.limit(pagination.page_size).offset(offset)


_MAX_OFFSET = 2**31 - 1


def blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=f"{PREFIX}{url_prefix}",
                   description=description)
    bp.before_request(_authenticate)
    return bp


def errors(bp: Blueprint, *statuses: int):
    """Document the catalogue errors a view can answer with (401 always)."""
    def decorate(view):
        for status in sorted({401, *statuses}):
            view = bp.alt_response(status, schema=CatalogueErrorSchema, description="错误")(view)
        return view
    return decorate


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="防返贫监测 API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"security": [{"basic": []}]},
    )
    api = Api(app)
    api.spec.components.security_scheme("basic", {"type": "http", "scheme": "basic"})
    from server.households.api import bp as households
    from server.pipeline.api import bp as cases

    api.register_blueprint(households)
    api.register_blueprint(cases)

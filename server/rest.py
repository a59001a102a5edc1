"""The REST toolkit every feature's ``api.py`` and ``schemas.py`` is made with: one place for
authentication, masking, sorting arguments, paging, downloads and error docs.

Every API blueprint is made with ``blueprint()``, which authenticates the request before any
view runs (HTTP Basic with the user's password; production runs behind TLS) and documents the
error responses. Views parse their arguments, call the feature's read services (its
``queries`` module: they take ``current_user()`` and keep to its area) or use cases, and dump
the objects they return; schemas mask personal data by role as they dump (``ShownIdNumber``,
``ShownPhone``). Path ids use the ``<id:…>`` converter (``IdConverter``).

This module imports no feature: the blueprints are registered by ``server.api``, which imports
them all (import-linter keeps it that way).
"""

from __future__ import annotations

import unicodedata
from typing import BinaryIO
from urllib.parse import quote

from flask import Response, g, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select, func, select
from werkzeug.routing import IntegerConverter
from werkzeug.wsgi import wrap_file

from server import db
from server.accounts.login import basic_login
from server.auth import Principal, check_role
from server.domain import personal
from server.domain.roles import Role
from server.errors import AppError
from server.listing import SortKey

PREFIX = "/api/v1"
# Roles that see full ID numbers and phone numbers (SPEC §7; the rule is server.domain.personal).
UNMASKED_ROLES = frozenset(Role(role) for role in personal.FULL_DATA_ROLES)


class Text(fields.String):
    """A string field that refuses NUL characters (PostgreSQL cannot store them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("不能包含空字符（\\x00）")
        return text


MAX_ID = 2**31 - 1  # the largest id of a database integer


class IdConverter(IntegerConverter):
    """The URL converter of every row id in a path, ``<id:case_id>``: 1 … 2**31 − 1 (a database
    integer); anything else matches no route (404). Registered as ``id`` by ``server.api``."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


class ShownIdNumber(fields.String):
    """An ID (or disability card) number, masked at dump time for the roles that may not see
    it in full (``shown_id_number``)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(shown_id_number(value), attr, obj, **kwargs)


class ShownPhone(fields.String):
    """A phone number, masked at dump time by the one rule (``shown_phone``). A household's
    phone is in full for its village, county and admin: ``household_area`` names the dumped
    object's attribute with the household's area code (None: a phone that is no household's,
    in full for county and admin only)."""

    def __init__(self, *args, household_area: str | None = "area_code", **kwargs):
        super().__init__(*args, **kwargs)
        self.household_area = household_area

    def _serialize(self, value, attr, obj, **kwargs):
        area = getattr(obj, self.household_area, None) if self.household_area else None
        return super()._serialize(shown_phone(value, area), attr, obj, **kwargs)


AREA_CODE = validate.Regexp(r"^[0-9]{4,15}$", error="区划代码应为4–15位数字")
HOUSEHOLD_ID = validate.Regexp(r"^[0-9a-f-]{36}$", error="农户编号应为36位 UUID")


class CatalogueErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "错误代码（稳定）"})
    message = fields.String(required=True, metadata={"description": "中文说明"})
    details = fields.Dict(keys=fields.String(), values=fields.String())


# Query parameters that would carry personal data into URLs, and so into every access log on
# the way (the proxy's, gunicorn's): refused before anything else, whatever their value.
PERSONAL_QUERY_PARAMETERS = ("id_number",)


def refuse_personal_data_in_url() -> None:
    """Before every request of the API (``server.api``): 400 ID_NUMBER_IN_URL when the query
    string names an ID number, before authentication and whatever the route."""
    if request.path.startswith(PREFIX + "/") and any(
            name in request.args for name in PERSONAL_QUERY_PARAMETERS):
        raise AppError("ID_NUMBER_IN_URL")


def _authenticate() -> None:
    g.user = basic_login(request.authorization)


def _authenticate_before_password_change() -> None:
    g.user = basic_login(request.authorization, before_password_change=True)


def current_user() -> Principal:
    return g.user


def shown_id_number(value: str | None) -> str | None:
    """An ID (or disability card) number as the current user may see it."""
    return personal.shown_id_number(value, current_user().role)


def shown_phone(value: str | None, household_area: str | None = None) -> str | None:
    """A phone number as the current user may see it: ``household_area`` is the area code of
    the household it belongs to (its village's users see it in full); None for a phone that is
    no household's (then only county and admin see it in full)."""
    user = current_user()
    return personal.shown_phone(value, user.role, user.area_code, household_area)


def require_role(*roles: Role) -> Principal:
    """The current user, if their role is one of ``roles``; otherwise 403 FORBIDDEN_ROLE."""
    user = current_user()
    check_role(user, roles)
    return user


# --- sorting ----------------------------------------------------------------------------------


class Sort(fields.String):
    """The ``sort`` query argument: comma-separated keys of an allow-list, ``-`` = descending.

    In a query-args schema: ``sort = Sort("updated_at", "area_code", default="area_code")``;
    ``?sort=-updated_at,area_code`` loads as ``(SortKey("updated_at", True),
    SortKey("area_code"))``. An unknown or repeated key is a 422 that names the allowed keys.
    The read service turns the keys into ORDER BY with ``server.listing.sorted_by``.
    """

    def __init__(self, *keys: str, default: str, **kwargs):
        self.keys = tuple(keys)
        names = "|".join(self.keys)
        metadata = {
            "description": f"排序字段，逗号分隔，前加“-”为降序；可用：{'、'.join(self.keys)}"
                           f"（默认 {default}）",
            "pattern": f"^-?({names})(,-?({names}))*$",
            "default": default,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(load_default=self._parse(default), metadata=metadata, **kwargs)

    def _parse(self, text: str) -> tuple[SortKey, ...]:
        keys: list[SortKey] = []
        for part in text.split(","):
            name = part.strip()
            descending = name.startswith("-")
            name = name.removeprefix("-")
            if name not in self.keys:
                raise ValidationError(
                    f"未知的排序字段“{name[:40]}”；可用：{'、'.join(self.keys)}")
            if any(key.name == name for key in keys):
                raise ValidationError(f"排序字段“{name}”重复")
            keys.append(SortKey(name, descending))
        return tuple(keys)

    def _deserialize(self, value, attr, data, **kwargs):
        return self._parse(super()._deserialize(value, attr, data, **kwargs))


def one_page(query: Select, pagination) -> Select:
    """Count ``query`` for the X-Pagination header and cut out the requested page.

    The offset is bounded (a generated ``page=10**18`` must not overflow the database's
    integers): past the last page the answer is simply empty.
    """
    pagination.item_count = db.session().scalar(select(func.count())
                                                .select_from(query.subquery()))
    offset = min((pagination.page - 1) * pagination.page_size, _MAX_OFFSET)
    return query.limit(pagination.page_size).offset(offset)


_MAX_OFFSET = MAX_ID


# --- file downloads ---------------------------------------------------------------------------


def file_download(stream: BinaryIO, size: int, content_type: str | None,
                  name: str) -> Response:
    """A stored file streamed to the client as a download named ``name`` (never shown inline,
    never sniffed as another type)."""
    response = Response(wrap_file(request.environ, stream), direct_passthrough=True,
                        mimetype=content_type or "application/octet-stream")
    response.content_length = size
    response.headers.set("Content-Disposition", "attachment", **filename_parameters(name))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def filename_parameters(name: str) -> dict[str, str]:
    """Content-Disposition parameters: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    if simple == name:
        return {"filename": name}
    return {"filename": simple or "attachment", "filename*": f"UTF-8''{quote(name, safe='')}"}


def blueprint(name: str, import_name: str, url_prefix: str, description: str, *,
              before_password_change: bool = False) -> Blueprint:
    """A feature's blueprint, its requests authenticated. A user whose password an admin set
    gets 403 PASSWORD_CHANGE_REQUIRED everywhere but in a blueprint made with
    ``before_password_change`` (/me: who am I, change my password)."""
    bp = Blueprint(name, import_name, url_prefix=f"{PREFIX}{url_prefix}",
                   description=description)
    bp.before_request(_authenticate_before_password_change if before_password_change
                      else _authenticate)
    return bp


def errors(bp: Blueprint, *statuses: int):
    """Document the catalogue errors a view can answer with; always 401 (no or wrong
    credentials), 403 (``PASSWORD_CHANGE_REQUIRED``) and 429 (``LOGIN_THROTTLED``), which the
    authentication of every request can answer."""
    def decorate(view):
        for status in sorted({401, 403, 429, *statuses}):
            view = bp.alt_response(status, schema=CatalogueErrorSchema, description="错误")(view)
        return view
    return decorate

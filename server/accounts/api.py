"""REST: user accounts (county and admin users, inside their area).

County users manage township, village and helper accounts of their county; admins manage every
role inside their area (server.accounts.services). Passwords never appear in a response; a
Collect token appears once, in the answer that issues it.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import func, select

from server import db
from server.accounts import collect, services
from server.accounts.models import CollectToken, User
from server.accounts.schemas import (
    RevokedSchema,
    TokenIssueSchema,
    TokenSchema,
    UserCreateSchema,
    UserQueryArgsSchema,
    UserSchema,
)
from server.areas.models import Area
from server.domain.roles import ROLE_NAMES, Role
from server.errors import AppError
from server.rest import (
    blueprint,
    errors,
    in_area,
    one_page,
    require_role,
    shown_phone,
    where_equal,
    where_in_area,
)

bp = blueprint("users", __name__, "/users", "用户和 ODK Collect 密钥（县级、管理员）")
MANAGERS = (Role.COUNTY, Role.ADMIN)

_ACTIVE_TOKENS = (select(func.count(CollectToken.id))
                  .where(CollectToken.user_id == User.id, CollectToken.revoked_at.is_(None))
                  .correlate(User).scalar_subquery())


def _query():
    return (select(User, Area.name, _ACTIVE_TOKENS)
            .outerjoin(Area, Area.code == User.area_code)
            .where(in_area(User.area_code)))


def _render(row) -> dict:
    user, area_name, tokens = row
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "phone": shown_phone(user.phone), "role": user.role,
            "role_name": ROLE_NAMES.get(user.role, user.role), "area_code": user.area_code,
            "area_name": area_name, "active": user.active, "active_tokens": tokens,
            "created_at": user.created_at}


def _one(user_id: int) -> dict:
    row = db.session().execute(_query().where(User.id == user_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return _render(row)


@bp.route("")
class Users(MethodView):
    @bp.arguments(UserQueryArgsSchema, location="query")
    @bp.response(200, UserSchema(many=True))
    @bp.paginate()
    @errors(bp, 403)
    def get(self, args, pagination_parameters):
        """用户列表（本辖区）"""
        require_role(*MANAGERS)
        query = _query().order_by(User.area_code, User.id)
        query = where_equal(query, args, User, "role")
        if "active" in args:
            query = query.where(User.active.is_(args["active"]))
        query = where_in_area(query, args, User.area_code)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [_render(row) for row in rows]

    @bp.arguments(UserCreateSchema)
    @bp.response(201, UserSchema)
    @errors(bp, 400, 403, 409)
    def post(self, data):
        """创建用户（角色和区划须在本人管理范围内）"""
        actor = require_role(*MANAGERS)
        user = services.create_user(db.session(), actor, username=data["username"],
                                    full_name=data["full_name"], password=data["password"],
                                    role=Role(data["role"]), area_code=data["area_code"],
                                    phone=data["phone"])
        return _one(user.id)


@bp.route("/<int(min=1, max=2147483647):user_id>")
class UserById(MethodView):
    @bp.response(200, UserSchema)
    @errors(bp, 403, 404)
    def get(self, user_id):
        """用户详情"""
        require_role(*MANAGERS)
        return _one(user_id)


@bp.route("/<int(min=1, max=2147483647):user_id>/deactivate")
class UserDeactivation(MethodView):
    @bp.response(200, UserSchema)
    @errors(bp, 403, 404, 409)
    def post(self, user_id):
        """停用用户（同时撤销其 Collect 密钥）"""
        actor = require_role(*MANAGERS)
        services.deactivate_user(db.session(), actor, user_id)
        return _one(user_id)


@bp.route("/<int(min=1, max=2147483647):user_id>/tokens")
class UserTokens(MethodView):
    @bp.arguments(TokenIssueSchema)
    @bp.response(201, TokenSchema)
    @errors(bp, 403, 404, 409)
    def post(self, data, user_id):
        """为信息采集员或村级用户签发 ODK Collect 密钥（只显示一次）"""
        actor = require_role(*MANAGERS)
        user, token, revoked = services.issue_collect_token(db.session(), actor, user_id,
                                                            data["revoke_old"])
        return {"user_id": user.id, "token": token,
                "url": collect.server_url(current_app.config["PUBLIC_URL"], token),
                "revoked_old": revoked}

    @bp.response(200, RevokedSchema)
    @errors(bp, 403, 404)
    def delete(self, user_id):
        """撤销该用户全部 Collect 密钥"""
        actor = require_role(*MANAGERS)
        return {"user_id": user_id,
                "revoked": services.revoke_collect_tokens(db.session(), actor, user_id)}


"""REST: user accounts (county and admin users, inside their area).

County users manage township, village and helper accounts of their county; admins manage every
role inside their area (server.accounts.services). Passwords never appear in a response; a
Collect token appears once, in the answer that issues it.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from server import db
from server.accounts import collect, services
from server.accounts.login import password_login
from server.accounts.queries import MANAGERS, own_account, readable_user, user_view, users_query
from server.accounts.schemas import (
    MeSchema,
    PasswordChangeSchema,
    RevokedSchema,
    TokenIssueSchema,
    TokenSchema,
    UserCreateSchema,
    UserQueryArgsSchema,
    UserSchema,
)
from server.domain.roles import Role
from server.errors import AppError
from server.rest import blueprint, current_user, errors, one_page, require_role

bp = blueprint("users", __name__, "/users", "用户和 ODK Collect 密钥（县级、管理员）")
me_bp = blueprint("me", __name__, "/me", "我的账号：我是谁、修改密码（每个用户）",
                  before_password_change=True)


def _one(user_id: int):
    return readable_user(db.session(), current_user(), user_id)


@bp.route("")
class Users(MethodView):
    @bp.arguments(UserQueryArgsSchema, location="query")
    @bp.response(200, UserSchema(many=True))
    @bp.paginate()
    @errors(bp, 403)
    def get(self, args, pagination_parameters):
        """用户列表（本辖区）"""
        query = users_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [user_view(row) for row in rows]

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


@bp.route("/<id:user_id>")
class UserById(MethodView):
    @bp.response(200, UserSchema)
    @errors(bp, 403, 404)
    def get(self, user_id):
        """用户详情"""
        return _one(user_id)


@bp.route("/<id:user_id>/deactivate")
class UserDeactivation(MethodView):
    @bp.response(200, UserSchema)
    @errors(bp, 403, 404, 409)
    def post(self, user_id):
        """停用用户（同时撤销其 Collect 密钥）"""
        actor = require_role(*MANAGERS)
        services.deactivate_user(db.session(), actor, user_id)
        return _one(user_id)


@bp.route("/<id:user_id>/tokens")
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


# --- my account (every user, also before a forced password change) ---------------------------


@me_bp.route("")
class Me(MethodView):
    @me_bp.response(200, MeSchema)
    @errors(me_bp)
    def get(self):
        """我是谁：用户名、姓名、角色、区划，是否须先修改密码"""
        return own_account(db.session(), current_user())


@me_bp.route("/password")
class MyPassword(MethodView):
    @me_bp.arguments(PasswordChangeSchema)
    @me_bp.response(200, MeSchema)
    @errors(me_bp, 400, 429)
    def post(self, data):
        """修改我的密码：原密码（计入登录失败限制）和新密码（须符合密码规则）"""
        user = current_user()
        try:
            password_login(user.username, data["old_password"])
        except AppError as error:
            if error.code != "AUTH_INVALID":
                raise
            raise AppError("PASSWORD_OLD_WRONG") from None
        services.change_password(db.session(), user, data["new_password"])
        return own_account(db.session(), current_user())

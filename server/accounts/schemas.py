from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain.logins import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from server.domain.roles import Role
from server.rest import AREA_CODE, ShownPhone, Text

ROLES = [role.value for role in Role]


class UserSchema(Schema):
    """A user as the API shows it: never the password (nor its hash), never a token."""

    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    phone = ShownPhone(allow_none=True, household_area=None,
                       metadata={"description": "县级以外角色脱敏"})
    role = fields.String(metadata={"enum": ROLES})
    role_name = fields.String()
    area_code = fields.String()
    area_name = fields.String(allow_none=True)
    active = fields.Boolean()
    active_tokens = fields.Integer(metadata={"description": "未撤销的 Collect 密钥数"})
    created_at = fields.DateTime()
    must_change_password = fields.Boolean(metadata={
        "description": "密码由管理员设置，用户须先修改密码（此前其他接口答 403 "
                       "PASSWORD_CHANGE_REQUIRED）"})


class MeSchema(Schema):
    """Who am I: the requesting user's own account."""

    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    role = fields.String(metadata={"enum": ROLES})
    role_name = fields.String()
    area_code = fields.String()
    area_name = fields.String(allow_none=True)
    must_change_password = fields.Boolean(metadata={
        "description": "为 true 时须先修改密码（POST /me/password）"})


class PasswordChangeSchema(Schema):
    old_password = Text(required=True, load_only=True,
                        validate=validate.Length(max=MAX_PASSWORD_LENGTH))
    new_password = Text(required=True, load_only=True,
                        metadata={"description": f"至少{MIN_PASSWORD_LENGTH}位，不能与用户名相同、"
                                                 "不能全是数字或过于简单（PASSWORD_WEAK）"})


class UserQueryArgsSchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    area_code = fields.String(validate=AREA_CODE,
                              metadata={"description": "只看此区划内的用户（须在本人辖区内）"})


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.@-]{2,64}$", error="用户名为2–64位字母、数字或 _ . @ -"))
    full_name = Text(required=True, validate=validate.Length(min=1, max=100))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[0-9+\- ]{3,20}$", error="电话号码为3–20位数字"))
    password = Text(required=True, load_only=True,
                    validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
                    metadata={"description": f"至少{MIN_PASSWORD_LENGTH}位，不能与用户名相同；"
                                             "服务器只保存 argon2 摘要"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    area_code = fields.String(required=True, validate=AREA_CODE)


class TokenIssueSchema(Schema):
    revoke_old = fields.Boolean(load_default=False,
                                metadata={"description": "同时撤销该用户以前的密钥"})


class TokenSchema(Schema):
    user_id = fields.Integer()
    token = fields.String(metadata={"description": "密钥只显示这一次；服务器只保存其摘要"})
    url = fields.String(metadata={"description": "填入 ODK Collect 的服务器地址（/key/<密钥>）"})
    revoked_old = fields.Integer()


class RevokedSchema(Schema):
    user_id = fields.Integer()
    revoked = fields.Integer(metadata={"description": "撤销的密钥数"})

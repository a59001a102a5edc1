"""The data every HTTP test starts from: part of 衡阳县, users of each role, the forms."""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.areas.models import Area
from server.areas.services import BUNDLED_AREAS, add_groups, import_areas, read_area_csv
from server.auth import issue_token
from server.domain.roles import Role
from server.figures.services import load_bundled
from server.forms.services import publish_directory

COUNTY = "430421"
TOWNSHIP = "430421107"  # 洪市镇
VILLAGE = "430421107003"  # 洪罗庙社区
OTHER_TOWNSHIP = "430421201"  # 岣嵝乡
PASSWORD = "correct horse battery"
# Real argon2id with the smallest cost, so that the tests' many logins take milliseconds (the
# server's own hashes use argon2-cffi's defaults; a hash carries its parameters).
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass
class Seeded:
    tokens: dict[str, str] = field(default_factory=dict)  # username → Collect token
    form_versions: dict[str, str] = field(default_factory=dict)  # form_id → current version


USERS = (
    ("helper", Role.HELPER, VILLAGE),
    ("helper_other", Role.HELPER, OTHER_TOWNSHIP),
    ("village", Role.VILLAGE, VILLAGE),
    ("township", Role.TOWNSHIP, TOWNSHIP),
    ("county", Role.COUNTY, COUNTY),
    ("inactive", Role.HELPER, VILLAGE),
)


def seed(session: Session, xlsforms_dir) -> Seeded:
    seeded = Seeded()
    load_bundled(session)
    import_areas(session, read_area_csv(BUNDLED_AREAS), COUNTY)
    add_groups(session, session.get(Area, VILLAGE), ["第一村民小组", "第二村民小组"])
    for username, role, area in USERS:
        user = User(username=username, full_name=f"测试{username}", role=role, area_code=area,
                    password_hash=PASSWORD_HASH, active=username != "inactive")
        session.add(user)
        session.flush()
        seeded.tokens[username] = issue_token(session, user)
    for published in publish_directory(session, xlsforms_dir):
        seeded.form_versions[published.form_id] = published.version
    return seeded

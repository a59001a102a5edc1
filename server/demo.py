"""Demo data: 衡阳县 (430421) with two townships' villages and groups, users of each role in
both townships, and the story of a year of work in a village of each (``server.demo_story``:
households, cases at every step, conflicts, a warning list), made through the real services.

Idempotent: running it again changes nothing that exists. It refuses a database with data the
demo did not make (``foreign_data``: a real county's users would be joined by users of a
published password). The Collect tokens of the demo
helpers are shown once, when they are made, and kept with their QR codes in ``instance/demo/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from media.store import MediaStore
from server import demo_story
from server.accounts import collect
from server.accounts.models import User
from server.areas.models import Area
from server.areas.services import BUNDLED_AREAS, add_groups, import_areas, read_area_csv
from server.audit.models import AuditEntry
from server.auth import Principal, hash_password, issue_token
from server.domain.roles import ROLE_NAMES, Role
from server.errors import AppError
from server.households.models import Household

COUNTY = "430421"  # 衡阳县
TOWNSHIPS = ("430421107", "430421201")  # 洪市镇, 岣嵝乡
GROUPS_PER_VILLAGE = 6
DEMO_PASSWORD = "fangpin-demo"
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    area_code: str  # a township's code + "*": its first village


DEMO_USERS = (
    DemoUser("admin", "系统管理员", Role.ADMIN, COUNTY),
    DemoUser("county", "县乡村振兴局审核员", Role.COUNTY, COUNTY),
    DemoUser("township", "洪市镇审核员", Role.TOWNSHIP, TOWNSHIPS[0]),
    DemoUser("township2", "岣嵝乡审核员", Role.TOWNSHIP, TOWNSHIPS[1]),
    DemoUser("village", "村两委干部", Role.VILLAGE, TOWNSHIPS[0] + "*"),
    DemoUser("village2", "村两委干部乙", Role.VILLAGE, TOWNSHIPS[1] + "*"),
    DemoUser("helper1", "信息采集员甲", Role.HELPER, TOWNSHIPS[0] + "*"),
    DemoUser("helper2", "信息采集员乙", Role.HELPER, TOWNSHIPS[1]),
)


def foreign_data(session: Session) -> str | None:
    """What in the database the demo did not make (None: nothing, an empty or a demo database):
    users of other names, an account made by a person (``fangpin create-admin`` or a manager:
    the demo makes its users without an audit entry, so even one named like a demo user), or
    households from before the demo's story. Areas, forms and yearly figures do not count."""
    names = [demo.username for demo in DEMO_USERS]
    others = session.scalar(select(func.count()).select_from(User)
                            .where(User.username.not_in(names)))
    if others:
        return f"{others} 个非演示用户"
    made = session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "user.created"))
    if made:
        return f"{made} 个由管理员创建的用户"
    households = session.scalar(select(func.count()).select_from(Household))
    if households and not demo_story.told(session):
        return f"{households} 户非演示农户"
    return None


def load_demo(session: Session, public_url: str, project_name: str, out: Path,
              store: MediaStore) -> list[str]:
    """Create what is missing and return the lines to print for the administrator; 409
    DEMO_FOREIGN_DATA on a database with data the demo did not make (``foreign_data``)."""
    found = foreign_data(session)
    if found is not None:
        raise AppError("DEMO_FOREIGN_DATA", found=found)
    if session.get(Area, COUNTY) is None:
        import_areas(session, read_area_csv(BUNDLED_AREAS), COUNTY)
    villages = session.scalars(
        select(Area).where(Area.level == "village", Area.parent_code.in_(TOWNSHIPS))
        .order_by(Area.code)
    ).all()
    group_names = [f"第{_NUMERALS[n]}村民小组" for n in range(GROUPS_PER_VILLAGE)]
    for village in villages:
        add_groups(session, village, group_names)
    first_village = {}
    for village in villages:
        first_village.setdefault(village.parent_code + "*", village.code)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    users: dict[str, Principal] = {}
    for demo in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == demo.username))
        if user is None:
            user = User(username=demo.username, full_name=demo.full_name, role=demo.role,
                        area_code=first_village.get(demo.area_code, demo.area_code),
                        password_hash=hash_password(DEMO_PASSWORD))
            session.add(user)
            session.flush()
            if user.collects:
                _write_collect_settings(session, user, public_url, project_name, out)
        area = session.get(Area, user.area_code)
        lines.append(f"  {user.username:<9} 密码 {DEMO_PASSWORD}  {ROLE_NAMES[Role(user.role)]:<6}"
                     f" {area.name}（{area.code}）")
        card = out / f"collect-{user.username}.txt"
        if card.exists():
            lines.extend("      " + line for line in card.read_text("utf-8").splitlines())
        users[demo.username] = Principal.of(user)
    if not demo_story.told(session):
        made = demo_story.tell(session, store, demo_story.Cast(
            helper=[users["helper1"], users["helper2"]],
            village=[users["village"], users["village2"]],
            township=[users["township"], users["township2"]], county=users["county"]),
            [users["village"].area_code, users["village2"].area_code])
        lines.append(f"演示数据: {made['households']} 户农户、{made['cases']} 个案件"
                     f"（{made['submissions']} 份表单经采集接口入库）")
    return lines


def _write_collect_settings(session: Session, user: User, public_url: str, project_name: str,
                            out: Path) -> None:
    server_url = collect.server_url(public_url, issue_token(session, user))
    payload = collect.settings(server_url, f"{project_name}（{user.full_name}）", user.username)
    png = collect.write_qr_png(payload, out / f"collect-{user.username}.png")
    (out / f"collect-{user.username}.txt").write_text(
        f"ODK Collect 服务器地址: {server_url}\n"
        f"ODK Collect 用户名: {user.username}（使用带密钥的地址时无需密码）\n"
        f"扫码配置（Collect 设置二维码）: {png}\n",
        encoding="utf-8",
    )

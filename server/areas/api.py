"""REST: the area tree, as far as the user's own area reaches (the area and everything inside).

The areas above the user's own (its ancestors) are not listed: a user sees only what lies
inside their area (SPEC §1); the user's own area is the root of what they see.
"""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from server import db
from server.areas.models import Area
from server.areas.schemas import AreaQueryArgsSchema, AreaSchema
from server.domain.areas import LEVEL_NAMES
from server.errors import AppError
from server.rest import (
    blueprint,
    errors,
    in_area,
    one_page,
    where_equal,
)

bp = blueprint("areas", __name__, "/areas", "行政区划（本辖区）")


def _render(area: Area) -> dict:
    return {"code": area.code, "name": area.name, "level": area.level,
            "level_name": LEVEL_NAMES.get(area.level, area.level),  # StrEnum keys
            "parent_code": area.parent_code}


@bp.route("")
class Areas(MethodView):
    @bp.arguments(AreaQueryArgsSchema, location="query")
    @bp.response(200, AreaSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """区划列表（本辖区内，按代码排序；可按上级、级别筛选）"""
        query = select(Area).where(in_area(Area.code)).order_by(Area.code)
        query = where_equal(query, args, Area, "parent_code", "level")
        return [_render(area) for area in
                db.session().scalars(one_page(query, pagination_parameters))]


@bp.route("/<code>")
class AreaByCode(MethodView):
    @bp.response(200, AreaSchema)
    @errors(bp, 404)
    def get(self, code):
        """区划详情（本辖区外的区划视为不存在）"""
        area = db.session().scalar(select(Area).where(Area.code == code, in_area(Area.code)))
        if area is None:
            raise AppError("NOT_FOUND")
        return _render(area)

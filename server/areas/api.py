"""REST: the area tree, as far as the user's own area reaches (the area and everything inside).

The areas above the user's own (its ancestors) are not listed: a user sees only what lies
inside their area (SPEC §1); the user's own area is the root of what they see.
"""

from __future__ import annotations

from flask.views import MethodView

from server import db
from server.areas import services
from server.areas.queries import area_view, areas_query, readable_area
from server.areas.schemas import AreaNameSchema, AreaQueryArgsSchema, AreaSchema
from server.rest import blueprint, current_user, errors, one_page

bp = blueprint("areas", __name__, "/areas", "行政区划（本辖区）")


@bp.route("")
class Areas(MethodView):
    @bp.arguments(AreaQueryArgsSchema, location="query")
    @bp.response(200, AreaSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """区划列表（本辖区内，按代码排序；可按上级、级别筛选）"""
        query = areas_query(current_user(), args)
        return [area_view(area) for area in
                db.session().scalars(one_page(query, pagination_parameters))]


@bp.route("/<code>")
class AreaByCode(MethodView):
    @bp.response(200, AreaSchema)
    @errors(bp, 404)
    def get(self, code):
        """区划详情（本辖区外的区划视为不存在）"""
        return area_view(readable_area(db.session(), current_user(), code))

    @bp.arguments(AreaNameSchema)
    @bp.response(200, AreaSchema)
    @errors(bp, 400, 403, 404, 409)
    def patch(self, args, code):
        """改名（县级、管理员；仅村民小组：国家统计用区划的名称随区划代码文件导入）"""
        return area_view(services.rename_area(db.session(), current_user(), code, args["name"]))


@bp.route("/<code>/groups")
class AreaGroups(MethodView):
    @bp.arguments(AreaNameSchema)
    @bp.response(201, AreaSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, args, code):
        """在村（社区）下添加村民小组（县级、管理员；编号接续该村最后一个小组）"""
        return area_view(services.add_group(db.session(), current_user(), code, args["name"]))

"""REST: self-declarations (农户自主申报) and what became of them (SPEC §2.4, §6 step 1).

Every role sees the declarations of its area: the household's area, or the declared address
for a family not yet registered (``queries.visible_area``) — not the submitter's, who may be
anywhere. ID numbers and phones are masked by role as everywhere (``server/rest.py``).
"""

from __future__ import annotations

from flask.views import MethodView

from server import db
from server.declarations.queries import (
    declaration_view,
    declarations_query,
    readable_declaration,
)
from server.declarations.schemas import DeclarationQueryArgsSchema, DeclarationSchema
from server.rest import blueprint, current_user, errors, one_page

bp = blueprint("declarations", __name__, "/declarations", "农户自主申报及其处理状态")


@bp.route("")
class Declarations(MethodView):
    @bp.arguments(DeclarationQueryArgsSchema, location="query")
    @bp.response(200, DeclarationSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """自主申报列表（本辖区：农户所在地，未登记的按申报住址；可按状态、区划筛选）"""
        query = declarations_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [declaration_view(row) for row in rows]


@bp.route("/<id:declaration_id>")
class DeclarationById(MethodView):
    @bp.response(200, DeclarationSchema)
    @errors(bp, 404)
    def get(self, declaration_id):
        """自主申报详情"""
        return readable_declaration(db.session(), current_user(), declaration_id)

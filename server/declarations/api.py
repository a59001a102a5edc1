"""REST: self-declarations (农户自主申报) and what became of them (SPEC §2.4, §6 step 1).

Every role sees the declarations of its area: the household's area, or the declared address
for a family not yet registered (``services.visible_area``) — not the submitter's, who may be
anywhere. ID numbers and phones are masked by role as everywhere (``server/rest.py``).
"""

from __future__ import annotations

from flask.views import MethodView

from server import db
from server.declarations import services
from server.declarations.schemas import DeclarationQueryArgsSchema, DeclarationSchema
from server.domain.declarations import STATE_LABELS, DeclarationState
from server.domain.fields import BY_NAME, Kind
from server.domain.idnumber import mask, mask_phone
from server.errors import AppError
from server.households.models import Declaration
from server.rest import (
    blueprint,
    errors,
    in_area,
    one_page,
    sees_personal_data,
    shown_id_number,
    sorted_by,
    where_equal,
    where_in_area,
)

bp = blueprint("declarations", __name__, "/declarations", "农户自主申报及其处理状态")

SORT = {"id": Declaration.id, "created_at": Declaration.created_at,
        "state_changed_at": Declaration.state_changed_at}


def _query():
    return services.declarations_query().where(in_area(services.visible_area()))


def _shown(name: str, value: str) -> str:
    field = BY_NAME.get(name)
    if sees_personal_data() or field is None or not value:
        return value
    if field.kind == Kind.ID_NUMBER:
        return mask(value)
    return mask_phone(value) if field.kind == Kind.PHONE else value


def _render(row) -> dict:
    declaration, case_status, case_step = row
    return {
        "id": declaration.id, "submission_id": declaration.submission_id,
        "state": declaration.state,
        "state_label": STATE_LABELS[DeclarationState(declaration.state)],
        "state_changed_at": declaration.state_changed_at, "case_id": declaration.case_id,
        "case_status": case_status, "case_step": case_step,
        "household_id": declaration.household_id, "area_code": declaration.area_code,
        "head_name": declaration.head_name,
        "head_id_number": shown_id_number(declaration.head_id_number),
        "on_behalf": declaration.on_behalf,
        "values": {name: _shown(name, str(value))
                   for name, value in (declaration.values or {}).items()},
        "created_at": declaration.created_at,
    }


@bp.route("")
class Declarations(MethodView):
    @bp.arguments(DeclarationQueryArgsSchema, location="query")
    @bp.response(200, DeclarationSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """自主申报列表（本辖区：农户所在地，未登记的按申报住址；可按状态、区划筛选）"""
        query = sorted_by(_query(), args["sort"], SORT, Declaration.id.desc())
        query = where_equal(query, args, Declaration, "state", "household_id", "case_id")
        query = where_in_area(query, args, services.visible_area())
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [_render(row) for row in rows]


@bp.route("/<int(min=1, max=2147483647):declaration_id>")
class DeclarationById(MethodView):
    @bp.response(200, DeclarationSchema)
    @errors(bp, 404)
    def get(self, declaration_id):
        """自主申报详情"""
        row = db.session().execute(_query().where(Declaration.id == declaration_id)).first()
        if row is None:
            raise AppError("NOT_FOUND")
        return _render(row)

"""REST: cases of the two procedures (list, read, open, act)."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from server import db
from server.api import blueprint, current_user, errors, in_area, one_page
from server.clock import today
from server.domain.pipeline import Action, Procedure
from server.errors import AppError
from server.households.models import Household
from server.pipeline import services
from server.pipeline.models import Case
from server.pipeline.schemas import (
    CaseActionSchema,
    CaseCreateSchema,
    CaseQueryArgsSchema,
    CaseSchema,
)

bp = blueprint("cases", __name__, "/cases", "识别和风险消除程序的案件")


@bp.route("")
class Cases(MethodView):
    @bp.arguments(CaseQueryArgsSchema, location="query")
    @bp.response(200, CaseSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """案件列表（本辖区）"""
        query = select(Case).where(in_area(Case.area_code)).order_by(Case.id)
        for name in ("procedure", "status", "step"):
            if name in args:
                query = query.where(getattr(Case, name) == args[name])
        return db.session().scalars(one_page(query, pagination_parameters)).all()

    @bp.arguments(CaseCreateSchema)
    @bp.response(201, CaseSchema)
    @errors(bp, 404, 409)
    def post(self, data):
        """开启案件"""
        household = db.session().get(Household, data["household_id"])
        if household is None:
            raise AppError("NOT_FOUND")
        return services.open_case(db.session(), Procedure(data["procedure"]),
                                  household.area_code, current_user(), household.id,
                                  origin=data["origin"])


@bp.route("/<int(min=1, max=2147483647):case_id>")
class CaseById(MethodView):
    @bp.response(200, CaseSchema)
    @errors(bp, 404)
    def get(self, case_id):
        """案件详情"""
        case = db.session().scalar(select(Case).where(Case.id == case_id,
                                                      in_area(Case.area_code)))
        if case is None:
            raise AppError("NOT_FOUND")
        return case


@bp.route("/<int(min=1, max=2147483647):case_id>/actions")
class CaseActions(MethodView):
    @bp.arguments(CaseActionSchema)
    @bp.response(200, CaseSchema)
    @errors(bp, 400, 404, 409)
    def post(self, data, case_id):
        """办理当前环节：通过、退回（须理由）或驳回（须理由）"""
        return services.act(db.session(), case_id, Action(data["action"]), current_user(),
                            today(), data["opinion"])

"""REST: dynamic management — assistance-effect evaluations, half-yearly sweeps with their
ledgers, what is due or overdue, and the province's step deadlines (SPEC §6)."""

from __future__ import annotations

from flask.views import MethodView

from server import db
from server.clock import today
from server.domain.deadlines import DeadlineInvalid, StepDeadline
from server.domain.pipeline import Procedure, Step
from server.domain.roles import Role
from server.errors import AppError
from server.figures.services import (
    WHOLE,
    clear_step_deadline,
    set_step_deadline,
    step_deadlines,
)
from server.monitoring import services
from server.monitoring.schemas import (
    DeadlineSchema,
    EvaluationCreateSchema,
    EvaluationQueryArgsSchema,
    EvaluationSchema,
    EvaluationStatusQueryArgsSchema,
    EvaluationStatusSchema,
    LedgerRowCreateSchema,
    LedgerRowSchema,
    SweepCreateSchema,
    SweepHouseholdQueryArgsSchema,
    SweepHouseholdSchema,
    SweepQueryArgsSchema,
    SweepSchema,
)
from server.rest import blueprint, current_user, errors, one_page, require_role

bp = blueprint("monitoring", __name__, "/monitoring",
               "动态管理：帮扶成效评估（每季度）、集中排查及排查台账（每半年）、办理时限")


@bp.route("/evaluations")
class Evaluations(MethodView):
    @bp.arguments(EvaluationQueryArgsSchema, location="query")
    @bp.response(200, EvaluationSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """帮扶成效评估记录（本辖区）"""
        query = services.evaluations_query(current_user(), args)
        return [services.evaluation_view(e) for e in
                db.session().scalars(one_page(query, pagination_parameters))]

    @bp.arguments(EvaluationCreateSchema)
    @bp.response(201, EvaluationSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data):
        """登记一次帮扶成效评估（村、乡镇；仅监测对象）"""
        return services.evaluation_view(services.record_evaluation(
            db.session(), current_user(), data["household_id"], data["evaluated_on"],
            data["evaluator"], data["result"], today()))


@bp.route("/evaluation-status")
class EvaluationStatus(MethodView):
    @bp.arguments(EvaluationStatusQueryArgsSchema, location="query")
    @bp.response(200, EvaluationStatusSchema(many=True))
    @bp.paginate()
    @errors(bp, 400)
    def get(self, args, pagination_parameters):
        """监测对象本季度（或指定季度）帮扶成效评估情况：待完成、已完成、已逾期"""
        now = today()
        quarter = services.asked_quarter(args, now)
        query = services.evaluation_status_query(current_user(), quarter, now, args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return services.evaluation_status_rows(rows, quarter, now)


def _sweep(sweep) -> services.SweepView:
    return services.sweep_view(db.session(), sweep, current_user(), today())


@bp.route("/sweeps")
class Sweeps(MethodView):
    @bp.arguments(SweepQueryArgsSchema, location="query")
    @bp.response(200, SweepSchema(many=True))
    @bp.paginate()
    @errors(bp, 400)
    def get(self, args, pagination_parameters):
        """集中排查（本辖区及覆盖本辖区的），含应查、已查户数和状态"""
        query = services.sweeps_query(current_user(), args)
        return [_sweep(s) for s in db.session().scalars(one_page(query, pagination_parameters))]

    @bp.arguments(SweepCreateSchema)
    @bp.response(201, SweepSchema)
    @errors(bp, 400, 403, 404, 409)
    def post(self, data):
        """开启一次集中排查（县级；县或乡镇，每户每半年一次，半年开始后方可开启）

        与同一半年已开启的排查范围重叠（县内某乡镇已开启，或全县已开启）时拒绝（409），
        并指明已开启的排查。"""
        return _sweep(services.open_sweep(db.session(), current_user(), data["area_code"],
                                          services.period_of(data["half_year"]), today()))


@bp.route("/sweeps/<id:sweep_id>")
class SweepById(MethodView):
    @bp.response(200, SweepSchema)
    @errors(bp, 404)
    def get(self, sweep_id):
        """集中排查详情"""
        return _sweep(services.sweep_in_view(db.session(), sweep_id, current_user()))


@bp.route("/sweeps/<id:sweep_id>/ledger")
class SweepLedger(MethodView):
    @bp.response(200, LedgerRowSchema(many=True))
    @bp.paginate()
    @errors(bp, 404)
    def get(self, sweep_id, pagination_parameters):
        """排查台账（本辖区的行）"""
        sweep = services.sweep_in_view(db.session(), sweep_id, current_user())
        query = services.ledger_query(sweep, current_user())
        return db.session().scalars(one_page(query, pagination_parameters)).all()

    @bp.arguments(LedgerRowCreateSchema)
    @bp.response(201, LedgerRowSchema)
    @errors(bp, 400, 403, 404)
    def post(self, data, sweep_id):
        """登记排查台账的一行：一户的核查日期和结果（村、乡镇、县）"""
        return services.record_ledger_row(db.session(), current_user(), sweep_id,
                                          data["household_id"], data["checked_on"],
                                          data["finding"], today())


@bp.route("/sweeps/<id:sweep_id>/households")
class SweepHouseholds(MethodView):
    @bp.arguments(SweepHouseholdQueryArgsSchema, location="query")
    @bp.response(200, SweepHouseholdSchema(many=True))
    @bp.paginate()
    @errors(bp, 404)
    def get(self, args, sweep_id, pagination_parameters):
        """本次排查应查的农户（本辖区）：待排查、已排查、已逾期"""
        session, now = db.session(), today()
        sweep = services.sweep_in_view(session, sweep_id, current_user())
        query = services.sweep_households_query(sweep, current_user(), now, args)
        rows = session.execute(one_page(query, pagination_parameters)).all()
        return services.sweep_household_views(session, sweep, rows, now)


def _deadline(deadline: StepDeadline) -> dict:
    return {"province": deadline.province, "procedure": deadline.procedure.value,
            "step": deadline.step.value if deadline.step else WHOLE,
            "workdays": deadline.workdays, "document": deadline.document}


@bp.route("/deadlines")
class Deadlines(MethodView):
    @bp.response(200, DeadlineSchema(many=True))
    @errors(bp)
    def get(self):
        """本省各程序各环节的办理时限（工作日；默认未设置）"""
        province = current_user().area_code[:2]
        return [_deadline(d) for d in step_deadlines(db.session(), province)]

    @bp.arguments(DeadlineSchema)
    @bp.response(200, DeadlineSchema)
    @errors(bp, 400, 403)
    def put(self, data):
        """设置或取消一个办理时限（管理员，本省）"""
        user = require_role(Role.ADMIN)
        province = user.area_code[:2]
        if data.get("province", province) != province:
            raise AppError("DEADLINE_OTHER_PROVINCE", province=data["province"])
        procedure = Procedure(data["procedure"])
        step = None if data["step"] == WHOLE else Step(data["step"])
        if data["workdays"] is None:
            clear_step_deadline(db.session(), province, procedure, step, user.id)
            return {"province": province, "procedure": procedure.value, "step": data["step"],
                    "workdays": None, "document": data["document"]}
        try:
            deadline = StepDeadline(province, procedure, step, data["workdays"],
                                    data["document"])
        except DeadlineInvalid as error:
            raise AppError.of(error) from error
        set_step_deadline(db.session(), deadline, user.id)
        return _deadline(deadline)

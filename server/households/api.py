"""REST: the household registry (read), area-scoped, personal data masked by role."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from server import db
from server.api import blueprint, errors, in_area, one_page, sees_personal_data
from server.domain.idnumber import mask, mask_phone
from server.errors import AppError
from server.households.models import Household, Person, SurveyVersion
from server.households.schemas import HouseholdQueryArgsSchema, HouseholdSchema

bp = blueprint("households", __name__, "/households", "农户登记册")


def _query():
    return (select(Household, Person.name, Person.id_number, SurveyVersion.number)
            .outerjoin(Person, Person.id == Household.head_person_id)
            .outerjoin(SurveyVersion, SurveyVersion.id == Household.latest_survey_id)
            .where(in_area(Household.area_code)))


def _render(row) -> dict:
    household, head_name, head_id, number = row
    full = sees_personal_data()
    phone = household.phone
    return {
        "id": household.id, "area_code": household.area_code, "size": household.size,
        "head_name": head_name,
        "head_id_number": head_id if full or head_id is None else mask(head_id),
        "phone": phone if full or not phone else mask_phone(phone),
        "monitoring_type": household.monitoring_type, "survey_number": number,
        "updated_at": household.updated_at,
    }


@bp.route("")
class Households(MethodView):
    @bp.arguments(HouseholdQueryArgsSchema, location="query")
    @bp.response(200, HouseholdSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """农户列表（本辖区）"""
        query = _query().order_by(Household.area_code, Household.id)
        if "area_code" in args:
            query = query.where(Household.area_code.startswith(args["area_code"],
                                                               autoescape=True))
        if "monitoring_type" in args:
            query = query.where(Household.monitoring_type == args["monitoring_type"])
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [_render(row) for row in rows]


@bp.route("/<household_id>")
class HouseholdById(MethodView):
    @bp.response(200, HouseholdSchema)
    @errors(bp, 404)
    def get(self, household_id):
        """农户详情"""
        row = db.session().execute(_query().where(Household.id == household_id)).first()
        if row is None:
            raise AppError("NOT_FOUND")
        return _render(row)

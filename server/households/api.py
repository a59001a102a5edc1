"""REST: the household registry (read), area-scoped, personal data masked by role."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from server import db
from server.clock import today
from server.domain.idnumber import normalise
from server.errors import AppError
from server.households import queries
from server.households.models import Household, Person, SurveyVersion
from server.households.schemas import (
    HouseholdDetailSchema,
    HouseholdQueryArgsSchema,
    HouseholdSchema,
    PersonQueryArgsSchema,
    PersonSchema,
    SurveyVersionSchema,
)
from server.rest import (
    blueprint,
    current_user,
    errors,
    in_area,
    one_page,
    sorted_by,
    where_equal,
    where_in_area,
)

bp = blueprint("households", __name__, "/households", "农户登记册")
people_bp = blueprint("people", __name__, "/people", "人员（按身份证号码识别的家庭成员）")
HOUSEHOLD_SORT = {"area_code": Household.area_code, "updated_at": Household.updated_at,
                  "created_at": Household.created_at, "size": Household.size,
                  "monitoring_type": Household.monitoring_type,
                  "survey_number": SurveyVersion.number}


@bp.route("")
class Households(MethodView):
    @bp.arguments(HouseholdQueryArgsSchema, location="query")
    @bp.response(200, HouseholdSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """农户列表（本辖区）"""
        query = sorted_by(queries.households_query(current_user()), args["sort"],
                          HOUSEHOLD_SORT, Household.id)
        query = where_in_area(query, args, Household.area_code)
        query = where_equal(query, args, Household, "monitoring_type")
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [queries.household_summary(row) for row in rows]


@bp.route("/<household_id>")
class HouseholdById(MethodView):
    @bp.response(200, HouseholdDetailSchema)
    @errors(bp, 404)
    def get(self, household_id):
        """农户详情：现有成员（A6 由身份证号码得出）、最新调查的服务器计算值（A26、A33、A34、
        A37、A38、人口、建议类型、手机端不一致之处、提示），以及今天是否为监测对象、自何日起"""
        detail = queries.household_detail(db.session(), current_user(), household_id, today())
        if detail is None:
            raise AppError("NOT_FOUND")
        return detail


@bp.route("/<household_id>/surveys")
class HouseholdSurveys(MethodView):
    @bp.response(200, SurveyVersionSchema(many=True))
    @bp.paginate()
    @errors(bp, 404)
    def get(self, household_id, pagination_parameters):
        """本户历次调查（按序号），各附服务器计算值"""
        session, user = db.session(), current_user()
        if not queries.household_visible(session, user, household_id):
            raise AppError("NOT_FOUND")
        query = queries.survey_versions_query(user, household_id)
        versions = session.scalars(one_page(query, pagination_parameters)).all()
        return [queries.survey_view(version) for version in versions]


@bp.route("/<household_id>/surveys/<int(min=1, max=2147483647):number>")
class HouseholdSurveyByNumber(MethodView):
    @bp.response(200, SurveyVersionSchema)
    @errors(bp, 404)
    def get(self, household_id, number):
        """本户第 number 次调查"""
        view = queries.survey_version(db.session(), current_user(), household_id, number)
        if view is None:
            raise AppError("NOT_FOUND")
        return view


# --- people -------------------------------------------------------------------------------------

PERSON_SORT = {"area_code": Household.area_code, "household_id": Person.household_id,
               "name": Person.name, "birth_date": Person.birth_date, "id": Person.id}


def _people():
    """People of the households inside the user's area (a person without a household, left
    detached by a roster change or a conflict, is not listed)."""
    return (select(Person, Household.area_code)
            .join(Household, Household.id == Person.household_id)
            .where(in_area(Household.area_code)))


def _render_person(row) -> dict:
    """The person's row; ``PersonSchema`` masks the numbers by role when it dumps."""
    person, area_code = row
    return {"id": person.id, "name": person.name, "sex": person.sex,
            "birth_date": person.birth_date, "id_number": person.id_number,
            "disability_card": person.disability_card,
            "household_id": person.household_id, "area_code": area_code,
            "relation": person.relation, "deceased": person.deceased,
            "death_date": person.death_date}


def searched_id(raw: str) -> str:
    """A typed ID number as the registry keys people: normalised, a 20-digit disability card
    number cut to the 18-digit ID it starts with. Nothing is refused: a malformed number simply
    finds nobody."""
    value = normalise(raw)
    return value[:18] if len(value) == 20 else value


@people_bp.route("")
class People(MethodView):
    @people_bp.arguments(PersonQueryArgsSchema, location="query")
    @people_bp.response(200, PersonSchema(many=True))
    @people_bp.paginate()
    @errors(people_bp)
    def get(self, args, pagination_parameters):
        """人员列表和查找（本辖区；可按户、完整身份证号码、姓名筛选）"""
        query = sorted_by(_people(), args["sort"], PERSON_SORT, Person.id)
        query = where_equal(query, args, Person, "household_id", "name")
        if "id_number" in args:
            query = query.where(Person.id_number == searched_id(args["id_number"]))
        query = where_in_area(query, args, Household.area_code)
        if "deceased" in args:
            query = query.where(Person.deceased.is_(args["deceased"]))
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [_render_person(row) for row in rows]


@people_bp.route("/<int(min=1, max=2147483647):person_id>")
class PersonById(MethodView):
    @people_bp.response(200, PersonSchema)
    @errors(people_bp, 404)
    def get(self, person_id):
        """人员详情"""
        row = db.session().execute(_people().where(Person.id == person_id)).first()
        if row is None:
            raise AppError("NOT_FOUND")
        return _render_person(row)

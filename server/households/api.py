"""REST: the household registry (read), area-scoped, personal data masked by role."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from server import db
from server.api import (
    blueprint,
    errors,
    in_area,
    one_page,
    shown_id_number,
    shown_phone,
    sorted_by,
    where_equal,
    where_in_area,
)
from server.domain.idnumber import normalise
from server.errors import AppError
from server.households.models import Household, Person, SurveyVersion
from server.households.schemas import (
    HouseholdQueryArgsSchema,
    HouseholdSchema,
    PersonQueryArgsSchema,
    PersonSchema,
)

bp = blueprint("households", __name__, "/households", "农户登记册")
people_bp = blueprint("people", __name__, "/people", "人员（按身份证号码识别的家庭成员）")
HOUSEHOLD_SORT = {"area_code": Household.area_code, "updated_at": Household.updated_at,
                  "created_at": Household.created_at, "size": Household.size,
                  "monitoring_type": Household.monitoring_type,
                  "survey_number": SurveyVersion.number}


def _query():
    return (select(Household, Person.name, Person.id_number, SurveyVersion.number)
            .outerjoin(Person, Person.id == Household.head_person_id)
            .outerjoin(SurveyVersion, SurveyVersion.id == Household.latest_survey_id)
            .where(in_area(Household.area_code)))


def _render(row) -> dict:
    household, head_name, head_id, number = row
    return {
        "id": household.id, "area_code": household.area_code, "size": household.size,
        "head_name": head_name,
        "head_id_number": shown_id_number(head_id),
        "phone": shown_phone(household.phone, household.area_code),
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
        query = sorted_by(_query(), args["sort"], HOUSEHOLD_SORT, Household.id)
        query = where_in_area(query, args, Household.area_code)
        query = where_equal(query, args, Household, "monitoring_type")
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
    person, area_code = row
    return {"id": person.id, "name": person.name, "sex": person.sex,
            "birth_date": person.birth_date, "id_number": shown_id_number(person.id_number),
            "disability_card": shown_id_number(person.disability_card),
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

"""REST: the household registry (read), area-scoped, personal data masked by role."""

from __future__ import annotations

from flask.views import MethodView

from server import db
from server.clock import today
from server.households import queries
from server.households.schemas import (
    HouseholdDetailSchema,
    HouseholdQueryArgsSchema,
    HouseholdSchema,
    PersonQueryArgsSchema,
    PersonSchema,
    PersonSearchSchema,
    SurveyVersionSchema,
)
from server.rest import blueprint, current_user, errors, one_page

bp = blueprint("households", __name__, "/households", "农户登记册")
people_bp = blueprint("people", __name__, "/people", "人员（按身份证号码识别的家庭成员）")


@bp.route("")
class Households(MethodView):
    @bp.arguments(HouseholdQueryArgsSchema, location="query")
    @bp.response(200, HouseholdSchema(many=True))
    @bp.paginate()
    @errors(bp)
    def get(self, args, pagination_parameters):
        """农户列表（本辖区）"""
        query = queries.households_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [queries.household_summary(row) for row in rows]


@bp.route("/<household_id>")
class HouseholdById(MethodView):
    @bp.response(200, HouseholdDetailSchema)
    @errors(bp, 404)
    def get(self, household_id):
        """农户详情：现有成员（A6 由身份证号码得出）、最新调查的服务器计算值（A26、A33、A34、
        A37、A38、人口、建议类型、手机端不一致之处、提示），以及今天是否为监测对象、自何日起"""
        return queries.household_detail(db.session(), current_user(), household_id, today())


@bp.route("/<household_id>/surveys")
class HouseholdSurveys(MethodView):
    @bp.response(200, SurveyVersionSchema(many=True))
    @bp.paginate()
    @errors(bp, 404)
    def get(self, household_id, pagination_parameters):
        """本户历次调查（按序号），各附服务器计算值"""
        session = db.session()
        query = queries.household_surveys_query(session, current_user(), household_id)
        versions = session.scalars(one_page(query, pagination_parameters)).all()
        return [queries.survey_view(version) for version in versions]


@bp.route("/<household_id>/surveys/<id:number>")
class HouseholdSurveyByNumber(MethodView):
    @bp.response(200, SurveyVersionSchema)
    @errors(bp, 404)
    def get(self, household_id, number):
        """本户第 number 次调查"""
        return queries.survey_version(db.session(), current_user(), household_id, number)


# --- people -------------------------------------------------------------------------------------


@people_bp.route("")
class People(MethodView):
    @people_bp.arguments(PersonQueryArgsSchema, location="query")
    @people_bp.response(200, PersonSchema(many=True))
    @people_bp.paginate()
    @errors(people_bp)
    def get(self, args, pagination_parameters):
        """人员列表和查找（本辖区；可按户、姓名筛选；按身份证号码查找用 POST /people/search）"""
        query = queries.people_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [queries.person_view(row) for row in rows]


@people_bp.route("/search")
class PeopleSearch(MethodView):
    @people_bp.arguments(PersonSearchSchema)
    @people_bp.response(200, PersonSchema(many=True))
    @people_bp.paginate()
    @errors(people_bp)
    def post(self, args, pagination_parameters):
        """按完整身份证号码查找人员（号码在请求体中，不进入网址和访问日志；本辖区；结果按角色脱敏）"""
        query = queries.people_query(current_user(), args)
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [queries.person_view(row) for row in rows]


@people_bp.route("/<id:person_id>")
class PersonById(MethodView):
    @people_bp.response(200, PersonSchema)
    @errors(people_bp, 404)
    def get(self, person_id):
        """人员详情"""
        return queries.readable_person(db.session(), current_user(), person_id)

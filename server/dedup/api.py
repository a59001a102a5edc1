"""REST: what deduplication holds for people to decide — conflicts and likely duplicates.

A conflict belongs to the smallest area covering its submitter's area and every household and
address involved (``Conflict.area_code``, SPEC §5): the reviewers of that area or above see and
resolve it, so a conflict that reaches into another village is decided by the township.
A likely-duplicate flag is visible to a user when either person's household lies in
their area, or when the submission that raised it was sent from there. Reviewers (village,
township, county, admin) resolve and judge; everyone in the area may list.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import or_, select

from server import db
from server.accounts.models import User
from server.dedup import services
from server.dedup.models import Conflict, DuplicateFlag
from server.dedup.schemas import (
    ConflictQueryArgsSchema,
    ConflictSchema,
    DuplicateFlagQueryArgsSchema,
    DuplicateFlagSchema,
    ResolutionSchema,
    VerdictSchema,
)
from server.domain.areas import contains
from server.domain.dedup import CONFLICT_NAMES, Resolution
from server.domain.roles import REVIEWING_ROLES
from server.errors import AppError
from server.households.models import Household, Person
from server.rest import (
    blueprint,
    current_user,
    errors,
    in_area,
    one_page,
    require_role,
    shown_id_number,
    where_equal,
)
from server.submissions.models import Submission, SubmissionState

conflicts_bp = blueprint("conflicts", __name__, "/conflicts",
                         "身份证号码冲突（提交暂停，待审核人处理）")
duplicates_bp = blueprint("duplicates", __name__, "/duplicate-flags",
                          "疑似重复人员（同名同生日、号码相差一位）")


# --- conflicts ----------------------------------------------------------------------------------


def _conflicts():
    return (select(Conflict, Submission.state)
            .join(Submission, Submission.id == Conflict.submission_id)
            .where(in_area(Conflict.area_code)))


def _render_conflict(row) -> dict:
    conflict, state = row
    return {
        "id": conflict.id, "submission_id": conflict.submission_id, "submission_state": state,
        "kind": conflict.kind, "kind_name": CONFLICT_NAMES.get(conflict.kind, conflict.kind),
        "id_number": shown_id_number(conflict.id_number),
        "member_indexes": conflict.member_indexes or [],
        "households": conflict.households or [], "area_code": conflict.area_code,
        "status": conflict.status,
        "resolution": conflict.resolution, "note": conflict.note,
        "created_at": conflict.created_at, "resolved_by": conflict.resolved_by,
        "resolved_at": conflict.resolved_at,
    }


def _conflict(conflict_id: int):
    row = db.session().execute(_conflicts().where(Conflict.id == conflict_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return row


@conflicts_bp.route("")
class Conflicts(MethodView):
    @conflicts_bp.arguments(ConflictQueryArgsSchema, location="query")
    @conflicts_bp.response(200, ConflictSchema(many=True))
    @conflicts_bp.paginate()
    @errors(conflicts_bp)
    def get(self, args, pagination_parameters):
        """冲突列表（本辖区，先到先列）"""
        query = _conflicts().order_by(Conflict.id)
        query = where_equal(query, args, Conflict, "status", "kind", "submission_id")
        rows = db.session().execute(one_page(query, pagination_parameters)).all()
        return [_render_conflict(row) for row in rows]


@conflicts_bp.route("/<int(min=1, max=2147483647):conflict_id>")
class ConflictById(MethodView):
    @conflicts_bp.response(200, ConflictSchema)
    @errors(conflicts_bp, 404)
    def get(self, conflict_id):
        """冲突详情"""
        return _render_conflict(_conflict(conflict_id))


@conflicts_bp.route("/<int(min=1, max=2147483647):conflict_id>/resolve")
class ConflictResolution(MethodView):
    @conflicts_bp.arguments(ResolutionSchema)
    @conflicts_bp.response(200, ConflictSchema)
    @errors(conflicts_bp, 403, 404, 409)
    def post(self, data, conflict_id):
        """处理冲突：同一户、真实迁移或录入错误；提交的冲突都处理完后重新入库"""
        user = require_role(*REVIEWING_ROLES)
        _conflict(conflict_id)  # inside the area, or 404
        submission = services.resolve_conflict(db.session(), conflict_id,
                                               Resolution(data["resolution"]), user.id,
                                               data["note"])
        if submission.state == SubmissionState.RECEIVED:  # every conflict closed: again
            current_app.extensions["fangpin.take_in"].submission_stored(db.session(),
                                                                        submission.id)
        db.commit()  # the answer shows what the take-in made of it
        return _render_conflict(_conflict(conflict_id))


# --- likely duplicates --------------------------------------------------------------------------


def _flags():
    sides = (DuplicateFlag.id_number_a, DuplicateFlag.id_number_b)
    person_here = (select(Person.id).join(Household, Household.id == Person.household_id)
                   .where(Person.id_number.in_(sides), in_area(Household.area_code))
                   .exists())
    sent_here = (select(Submission.id).join(User, User.id == Submission.submitter_id)
                 .where(Submission.id == DuplicateFlag.submission_id,
                        in_area(User.area_code)).exists())
    return select(DuplicateFlag).where(or_(person_here, sent_here))


def _render_flags(flags: list[DuplicateFlag]) -> list[dict]:
    ids = {n for flag in flags for n in (flag.id_number_a, flag.id_number_b)}
    people = {person.id_number: (person, area) for person, area in db.session().execute(
        select(Person, Household.area_code)
        .outerjoin(Household, Household.id == Person.household_id)
        .where(Person.id_number.in_(ids)))} if ids else {}
    return [{
        "id": flag.id, "id_number_a": shown_id_number(flag.id_number_a),
        "id_number_b": shown_id_number(flag.id_number_b),
        "person_a": _side(people.get(flag.id_number_a)),
        "person_b": _side(people.get(flag.id_number_b)),
        "submission_id": flag.submission_id, "status": flag.status,
        "created_at": flag.created_at, "decided_by": flag.decided_by,
        "decided_at": flag.decided_at,
    } for flag in flags]


def _side(found) -> dict | None:
    """A flagged person, shown only when their household lies inside the user's area."""
    if found is None or found[1] is None or not contains(current_user().area_code, found[1]):
        return None
    person, area = found
    return {"id": person.id, "name": person.name, "birth_date": person.birth_date,
            "household_id": person.household_id, "area_code": area}


def _flag(flag_id: int) -> DuplicateFlag:
    flag = db.session().scalar(_flags().where(DuplicateFlag.id == flag_id))
    if flag is None:
        raise AppError("NOT_FOUND")
    return flag


@duplicates_bp.route("")
class DuplicateFlags(MethodView):
    @duplicates_bp.arguments(DuplicateFlagQueryArgsSchema, location="query")
    @duplicates_bp.response(200, DuplicateFlagSchema(many=True))
    @duplicates_bp.paginate()
    @errors(duplicates_bp)
    def get(self, args, pagination_parameters):
        """疑似重复人员列表（本辖区）"""
        query = _flags().order_by(DuplicateFlag.id)
        query = where_equal(query, args, DuplicateFlag, "status")
        return _render_flags(list(db.session().scalars(one_page(query,
                                                                pagination_parameters))))


@duplicates_bp.route("/<int(min=1, max=2147483647):flag_id>")
class DuplicateFlagById(MethodView):
    @duplicates_bp.response(200, DuplicateFlagSchema)
    @errors(duplicates_bp, 404)
    def get(self, flag_id):
        """疑似重复详情"""
        return _render_flags([_flag(flag_id)])[0]


@duplicates_bp.route("/<int(min=1, max=2147483647):flag_id>/verdict")
class DuplicateVerdict(MethodView):
    @duplicates_bp.arguments(VerdictSchema)
    @duplicates_bp.response(200, DuplicateFlagSchema)
    @errors(duplicates_bp, 403, 404)
    def post(self, data, flag_id):
        """判定是否同一人（“不是同一人”会被记住，不再标记）"""
        user = require_role(*REVIEWING_ROLES)
        _flag(flag_id)
        services.judge_duplicate(db.session(), flag_id, data["same_person"], user.id)
        return _render_flags([_flag(flag_id)])[0]

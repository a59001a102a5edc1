"""The workbench's queue counts and the password services (issue 13), on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from server.accounts import services as accounts
from server.accounts.models import User
from server.accounts.queries import users_query
from server.audit.models import AuditEntry
from server.auth import check_password
from server.domain.deadlines import StepDeadline
from server.domain.pipeline import Procedure, Step
from server.errors import AppError
from server.figures.services import set_step_deadline
from server.pipeline.queues import queue_counts
from server.pipeline.services import open_case
from tests.integration.conftest import user
from tests.support.seed import OTHER_TOWNSHIP, VILLAGE

TODAY = date(2026, 12, 4)  # a Friday


def _counts(queues) -> dict:
    return {(q.procedure.value, q.step.value): (q.open, q.overdue) for q in queues if q.open}


def test_queue_counts_are_per_step_inside_the_users_area_with_the_overdue_apart(session):
    """Issue 13 工作台: open cases per (procedure, step) inside the user's area; overdue ones
    by the step's deadline in working days (SPEC §6); the steps where the role acts marked."""
    village, township, county = (user(session, name) for name in ("village", "township",
                                                                    "county"))
    for _ in range(3):
        open_case(session, Procedure.IDENTIFICATION, VILLAGE, village)
    open_case(session, Procedure.IDENTIFICATION, f"{OTHER_TOWNSHIP}200", county)
    old = open_case(session, Procedure.IDENTIFICATION, VILLAGE, village)
    old.step_entered_at = old.opened_at = datetime(2026, 11, 20, 2, tzinfo=UTC)  # 10 days ago
    closed = open_case(session, Procedure.IDENTIFICATION, VILLAGE, village)
    closed.status = "rejected"
    set_step_deadline(session, StepDeadline("43", Procedure.IDENTIFICATION, Step.APPLICATION,
                                            5, "某县规定"))
    session.flush()

    in_village = queue_counts(session, village, TODAY)
    in_county = queue_counts(session, county, TODAY)
    in_township = queue_counts(session, township, TODAY)

    assert _counts(in_village) == {("identification", "application"): (4, 1)}
    assert _counts(in_county) == {("identification", "application"): (5, 1)}
    assert _counts(in_township) == _counts(in_village)
    assert len(in_county) == 12  # every step of both procedures, empty ones too
    assert {(q.procedure, q.step) for q in in_township if q.acts} == {
        (Procedure.IDENTIFICATION, Step.VERIFICATION), (Procedure.ELIMINATION, Step.VERIFICATION),
        (Procedure.IDENTIFICATION, Step.TOWNSHIP_REVIEW),
        (Procedure.ELIMINATION, Step.TOWNSHIP_REVIEW)}


def test_a_manager_resets_a_password_under_the_policy_and_it_is_audited(session):
    county = user(session, "county")
    helper = session.scalar(select(User).where(User.username == "helper"))

    with pytest.raises(AppError) as weak:
        accounts.reset_password(session, county, helper.id, "short")
    accounts.reset_password(session, county, helper.id, "a-new-password-1")

    assert weak.value.code == "PASSWORD_WEAK"
    assert check_password(helper, "a-new-password-1")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
    assert (entry.object_id, entry.user_id) == (str(helper.id), county.id)
    assert "a-new-password-1" not in str(entry.details)


def test_a_township_user_resets_no_password_and_a_county_user_no_county_password(session):
    township, county = user(session, "township"), user(session, "county")
    helper = session.scalar(select(User).where(User.username == "helper"))

    with pytest.raises(AppError) as not_manager:
        accounts.reset_password(session, township, helper.id, "a-new-password-1")
    with pytest.raises(AppError) as peer:
        accounts.reset_password(session, county, county.id, "a-new-password-1")

    assert not_manager.value.code == "ROLE_NOT_GRANTABLE"
    assert peer.value.code == "ROLE_NOT_GRANTABLE"


def test_a_user_changes_their_own_password(session):
    village = user(session, "village")

    accounts.change_password(session, village, "my-own-new-pass")

    account = session.get(User, village.id)
    assert check_password(account, "my-own-new-pass")
    assert session.scalar(select(AuditEntry.user_id).where(
        AuditEntry.action == "user.password_changed")) == village.id


def test_the_users_list_holds_the_actors_area_only(session):
    county = user(session, "county")

    rows = session.execute(users_query(county, {})).all()
    inactive = session.execute(users_query(county, {"active": False})).all()

    assert rows and all(row[0].area_code.startswith(county.area_code) for row in rows)
    assert [row[0].username for row in inactive] == ["inactive"]
    assert all(row[2] == 1 for row in rows)  # each seeded user has one Collect token


def test_created_users_follow_the_password_policy(session):
    county = user(session, "county")
    with pytest.raises(AppError) as weak:
        accounts.create_user(session, county, username="newbie", full_name="新人",
                             password="newbie", role=accounts.Role.HELPER, area_code=VILLAGE)
    assert weak.value.code == "PASSWORD_WEAK"



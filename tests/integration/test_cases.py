"""The identification and risk-elimination procedures on a real database (issue 6, services).

The rules themselves are unit-tested in tests/unit/domain/test_pipeline.py; here: the facts
read from the registry (team signatures, objections, contact, elimination blockers), the area
check, the event log and the audit entries.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from media.memory import MemoryMediaStore
from server.audit.models import AuditEntry
from server.domain.pipeline import Action, Procedure
from server.errors import AppError
from server.households.services import apply_submission
from server.pipeline.models import CaseEvent, MonitoringContact
from server.pipeline.services import (
    act,
    assign_contact,
    close_objection,
    open_case,
    raise_objection,
)
from server.submissions.models import Submission
from server.submissions.services import UploadedFile, ingest_submission
from tests.integration.conftest import user
from tests.integration.test_registry import (
    HOUSEHOLD,
    TODAY,
    elimination_values,
    submit_form,
)
from tests.support.collect import form_instance, png_bytes
from tests.support.households import CHILD, HEAD, SPOUSE
from tests.support.seed import VILLAGE

TEAM = "<team><team_signature>t1.png</team_signature></team>" \
       "<team><team_signature>t2.png</team_signature></team>"


def surveyed_household(session, helper, seeded, signatures=2) -> str:
    """A household surveyed with ``signatures`` team signatures on the phone."""
    xml = form_instance("household", seeded.form_versions["household"], HOUSEHOLD,
                        [HEAD, SPOUSE, CHILD]).replace(
        b"<meta>", TEAM.encode() + b"<meta>")
    files = [UploadedFile(f"t{n}.png", io.BytesIO(png_bytes()), "image/png")
             for n in range(1, signatures + 1)]
    result = ingest_submission(session, MemoryMediaStore(), helper, xml, files)
    apply_submission(session, result.submission_id, TODAY)
    session.commit()
    return session.get(Submission, result.submission_id).household_id


def test_an_identification_case_runs_from_application_to_monitoring_object(session, helper,
                                                                           seeded):
    """SPEC §6: five steps with the right roles, the notice, an objection and a contact."""
    household = surveyed_household(session, helper, seeded)
    village, township, county = (user(session, n) for n in ("village", "township", "county"))
    case = open_case(session, Procedure.IDENTIFICATION, f"{VILLAGE}001", helper, household,
                     origin="02")
    day = TODAY
    act(session, case.id, Action.APPROVE, helper, day, "户主申请并签字")
    act(session, case.id, Action.APPROVE, helper, day, "核实小组2人入户核实")
    act(session, case.id, Action.APPROVE, village, day, "民主评议通过")
    assert case.step == "public_notice" and case.notice_started == day
    objection = raise_objection(session, case.id, village, "邻居反映家中有车辆")
    with pytest.raises(AppError) as early:
        act(session, case.id, Action.APPROVE, village, day + timedelta(days=8))
    close_objection(session, objection.id, village, "核实为借用车辆，异议不成立")
    act(session, case.id, Action.APPROVE, village, day + timedelta(days=8), "公示无异议")
    act(session, case.id, Action.APPROVE, township, day + timedelta(days=9), "审核通过")
    with pytest.raises(AppError) as no_contact:
        act(session, case.id, Action.APPROVE, county, day + timedelta(days=10))
    assign_contact(session, household, county, "刘强", "洪市镇人民政府", "副镇长", "13900001111")
    act(session, case.id, Action.APPROVE, county, day + timedelta(days=10), "比对审定")
    session.commit()

    assert early.value.params["rule"] == "NOTICE_OBJECTION_OPEN"
    assert no_contact.value.params["rule"] == "CONTACT_REQUIRED"
    assert case.status == "done"
    events = session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id)).all()
    assert events == ["open"] + ["approve"] * 6
    assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "case.approve"))


def test_verification_needs_two_signatures_from_the_phone(session, helper, seeded):
    household = surveyed_household(session, helper, seeded, signatures=1)
    case = open_case(session, Procedure.IDENTIFICATION, f"{VILLAGE}001", helper, household)
    act(session, case.id, Action.APPROVE, helper, TODAY)

    with pytest.raises(AppError) as error:
        act(session, case.id, Action.APPROVE, helper, TODAY)

    assert error.value.params["rule"] == "TEAM_TOO_SMALL"
    assert "至少2人" in error.value.message


def test_a_user_of_another_area_cannot_see_or_act_on_a_case(session, helper, seeded):
    household = surveyed_household(session, helper, seeded)
    case = open_case(session, Procedure.IDENTIFICATION, f"{VILLAGE}001", helper, household)

    with pytest.raises(AppError) as error:
        act(session, case.id, Action.APPROVE, user(session, "helper_other"), TODAY)

    assert error.value.code == "NOT_FOUND"


def test_a_contact_is_replaced_with_a_reason_never_removed(session, helper, seeded):
    household = surveyed_household(session, helper, seeded)
    county = user(session, "county")
    assign_contact(session, household, county, "刘强", "洪市镇人民政府", "副镇长")

    with pytest.raises(AppError):
        assign_contact(session, household, county, "陈敏", "县农业农村局", "干部")
    assign_contact(session, household, county, "陈敏", "县农业农村局", "干部",
                   reason="原联系人调离")
    session.commit()

    contacts = session.scalars(select(MonitoringContact)
                               .order_by(MonitoringContact.id)).all()
    assert [c.name for c in contacts] == ["刘强", "陈敏"]
    assert contacts[0].replaced_reason == "原联系人调离" and contacts[1].replaced_at is None


def test_county_approval_of_elimination_is_refused_below_the_floor(session, helper, seeded):
    """SPEC §6: A34 below the floor of the year can't be eliminated (hard rule)."""
    household = surveyed_household(session, helper, seeded)
    submit_form(session, helper, seeded, "elimination",
                elimination_values(household, a28_wages="10000"))
    county = user(session, "county")
    case = open_case(session, Procedure.ELIMINATION, f"{VILLAGE}001", county, household)
    case.step = "county_approval"  # the earlier steps are covered by the test above

    with pytest.raises(AppError) as error:
        act(session, case.id, Action.APPROVE, county, TODAY)

    assert error.value.params["rule"] == "ELIMINATION_BELOW_FLOOR"
    assert "底线" in error.value.message

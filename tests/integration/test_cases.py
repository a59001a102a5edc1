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
from media.uploads import UploadedFile
from server import clock
from server.audit.models import AuditEntry
from server.domain.pipeline import Action, Procedure, Step
from server.errors import AppError
from server.intake import take_in
from server.pipeline.green_channel import record_measure
from server.pipeline.models import Case, CaseEvent, MonitoringContact
from server.pipeline.services import (
    act,
    assign_contact,
    close_objection,
    open_case,
    raise_objection,
)
from server.submissions.models import Submission
from server.submissions.services import ingest_submission
from tests.integration.conftest import user
from tests.integration.test_registry import (
    HOUSEHOLD,
    TODAY,
    elimination_values,
)
from tests.support.cases import monitoring_object, signed
from tests.support.collect import form_instance, png_bytes
from tests.support.households import CHILD, HEAD, SPOUSE
from tests.support.seed import VILLAGE

TEAM = "<team><team_signature>t1.png</team_signature></team>" \
       "<team><team_signature>t2.png</team_signature></team>"
IDENTIFICATION, ELIMINATION = Procedure.IDENTIFICATION, Procedure.ELIMINATION
# 附件1 signed on the phone: the applicant's signature, or the photo of the thumbprint.
APPLICANT_SIGNS = "<applicant_can_sign>01</applicant_can_sign>" \
                  "<sig_applicant>sig.png</sig_applicant>"
THUMBPRINT = "<applicant_can_sign>02</applicant_can_sign>" \
             "<photo_thumbprint>thumb.jpg</photo_thumbprint>"
NO_LABOUR = [{**HEAD, "a14_labour_skill": "03"}, {**SPOUSE, "a14_labour_skill": "03"}]  # 丧失


def surveyed_household(session, helper, seeded, signatures=2, applicant=APPLICANT_SIGNS,
                       members=(HEAD, SPOUSE, CHILD)) -> str:
    """A household surveyed with ``signatures`` team signatures on the phone and 附件1 signed
    as ``applicant`` says ("" for not signed)."""
    xml = form_instance("household", seeded.form_versions["household"], HOUSEHOLD,
                        list(members)).replace(
        b"<meta>", (TEAM + applicant).encode() + b"<meta>")
    files = [UploadedFile(f"t{n}.png", io.BytesIO(png_bytes()), "image/png")
             for n in range(1, signatures + 1)]
    for name in ("sig.png", "thumb.jpg"):
        if name in applicant:
            files.append(UploadedFile(name, io.BytesIO(png_bytes((90, 30))), "image/png"))
    result = ingest_submission(session, MemoryMediaStore(), helper, xml, files)
    take_in(session, result.submission_id, TODAY)
    session.commit()
    return session.get(Submission, result.submission_id).household_id


def identified(session, household: str, case: Case | None = None) -> Case:
    """The identification (``case``, or a new one) run through its five steps by their roles,
    with the signatures the documents ask for, up to the county's approval: the household is a
    monitoring object."""
    helper, village, township, county = (user(session, n) for n in
                                         ("helper", "village", "township", "county"))
    case = case or open_case(session, IDENTIFICATION, f"{VILLAGE}001", helper, household,
                             origin="02")
    day = clock.today()
    for who, on in ((helper, day), (helper, day), (village, day),
                    (village, day + timedelta(days=8)), (township, day + timedelta(days=8))):
        act(session, case.id, Action.APPROVE, who, on, signatures=signed(IDENTIFICATION,
                                                                          case.step))
    if session.scalar(select(MonitoringContact.id)
                      .where(MonitoringContact.household_id == household)) is None:
        assign_contact(session, household, county, "刘强", "洪市镇人民政府", "副镇长")
    act(session, case.id, Action.APPROVE, county, day + timedelta(days=8))
    session.commit()
    assert case.status == "done"
    return case


def assessed(session, helper, seeded, household: str, head_signs=True, **values) -> int:
    """An elimination assessment (附件4/附件5) from the phone, the head's confirmation signed
    (``sig_head``) or not; the submission's id."""
    xml = form_instance("elimination", seeded.form_versions["elimination"],
                        elimination_values(household, **values))
    xml = xml.replace(b"<meta>", TEAM.encode() + b"<meta>")  # the team of two signed
    files = [UploadedFile(f"t{n}.png", io.BytesIO(png_bytes()), "image/png") for n in (1, 2)]
    if head_signs:
        xml = xml.replace(b"<meta>", b"<confirmation><sig_head>head.png</sig_head>"
                          b"</confirmation><meta>")
        files.append(UploadedFile("head.png", io.BytesIO(png_bytes((70, 30))), "image/png"))
    result = ingest_submission(session, MemoryMediaStore(), helper, xml, files)
    assert take_in(session, result.submission_id, TODAY) == "applied"
    session.commit()
    return result.submission_id


def refusal(call, *args, **kwargs) -> AppError:
    with pytest.raises(AppError) as error:
        call(*args, **kwargs)
    return error.value


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
    act(session, case.id, Action.APPROVE, village, day + timedelta(days=8), "公示无异议",
        signed(IDENTIFICATION, Step.PUBLIC_NOTICE))
    act(session, case.id, Action.APPROVE, township, day + timedelta(days=9), "审核通过",
        signed(IDENTIFICATION, Step.TOWNSHIP_REVIEW))
    with pytest.raises(AppError) as no_contact:
        act(session, case.id, Action.APPROVE, county, day + timedelta(days=10))
    assign_contact(session, household, county, "刘强", "洪市镇人民政府", "副镇长", "13900001111")
    act(session, case.id, Action.APPROVE, county, day + timedelta(days=10), "比对审定")
    session.commit()

    assert early.value.code == "NOTICE_OBJECTION_OPEN"
    assert no_contact.value.code == "CONTACT_REQUIRED"
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

    assert error.value.code == "TEAM_TOO_SMALL"
    assert error.value.params["minimum"] == 2


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
    monitoring_object(session, household)
    assessed(session, helper, seeded, household, a28_wages="10000")
    county = user(session, "county")
    case = open_case(session, ELIMINATION, f"{VILLAGE}001", user(session, "village"), household)
    case.step = "county_approval"  # the earlier steps are covered by the test above

    with pytest.raises(AppError) as error:
        act(session, case.id, Action.APPROVE, county, TODAY)

    assert error.value.code == "ELIMINATION_BELOW_FLOOR"
    assert error.value.status == 409 and error.value.params["floor"]


# --- issue 11: the rules are those of the registry at the moment of each decision ---------


def test_not_for_now_counts_social_protection_recorded_after_the_assessment(session, helper,
                                                                              seeded):
    """SPEC §6 暂不: a household without labour capacity, once social-protection measures are
    in place, is not marked 风险消除. A48 recorded on the case after the assessment (which found
    nothing to block) refuses the county's approval: the rule is worked out at approval time."""
    household = surveyed_household(session, helper, seeded, members=NO_LABOUR)
    monitoring_object(session, household)
    submission = assessed(session, helper, seeded, household)
    assert not [p for p in session.get(Submission, submission).problems
                if p["severity"] == "error"]  # nothing blocked when it was assessed
    village, county = user(session, "village"), user(session, "county")
    case = open_case(session, ELIMINATION, f"{VILLAGE}001", village, household)
    case.step = "county_approval"
    session.commit()

    record_measure(session, case.id, village, clock.today(),
                   {"a48_social_protection": "01", "a48_effect": "纳入农村低保"})
    error = refusal(act, session, case.id, Action.APPROVE, county, clock.today())

    assert error.code == "ELIMINATION_NOT_FOR_NOW"
    assert case.status == "open"


def test_elimination_blockers_follow_the_latest_assessment_and_the_current_figures(
        session, helper, seeded):
    """SPEC §6: the floor is checked on the household's latest assessment at approval time: a
    later assessment above the floor lets the case through; one below it blocks it again."""
    household = surveyed_household(session, helper, seeded)
    monitoring_object(session, household)
    assessed(session, helper, seeded, household, a28_wages="10000")  # below the floor
    county = user(session, "county")
    case = open_case(session, ELIMINATION, f"{VILLAGE}001", user(session, "village"), household)
    case.step = "county_approval"
    assert refusal(act, session, case.id, Action.APPROVE, county,
                   clock.today()).code == "ELIMINATION_BELOW_FLOOR"

    assessed(session, helper, seeded, household)  # income above the line now
    act(session, case.id, Action.APPROVE, county, clock.today(), "审定")

    assert case.status == "done" and case.decided_on == clock.today()


def test_elimination_is_opened_only_for_a_monitoring_object_by_the_village(session, helper,
                                                                            seeded):
    """SPEC §6: the village proposes names of monitoring objects (识别审定、未风险消除);
    not while another case of the household is open; a helper or the county does not."""
    household = surveyed_household(session, helper, seeded)
    village, county = user(session, "village"), user(session, "county")
    area = f"{VILLAGE}001"

    never = refusal(open_case, session, ELIMINATION, area, village, household)
    identification = open_case(session, IDENTIFICATION, area, helper, household)
    while_identifying = refusal(open_case, session, ELIMINATION, area, village, household)
    identified(session, household, identification)
    by_helper = refusal(open_case, session, ELIMINATION, area, helper, household)
    by_county = refusal(open_case, session, ELIMINATION, area, county, household)
    case = open_case(session, ELIMINATION, area, village, household)
    twice = refusal(open_case, session, ELIMINATION, area, village, household)

    assert never.code == while_identifying.code == "ELIMINATION_NOT_MONITORED"
    assert never.status == 409
    assert by_helper.code == by_county.code == "ELIMINATION_PROPOSER"
    assert by_helper.status == 403
    assert case.procedure == "elimination" and case.step == "proposal"
    assert twice.code == "CASE_ALREADY_OPEN" and twice.params["case_id"] == case.id


def test_no_second_case_while_one_of_either_procedure_is_open(session, helper, seeded):
    """SPEC §6: one procedure at a time per household: an identification left open (as the old
    code allowed a second one) keeps an elimination from being proposed."""
    household = surveyed_household(session, helper, seeded)
    identified(session, household)
    leftover = Case(procedure="identification", step="application", area_code=f"{VILLAGE}001",
                    household_id=household)
    session.add(leftover)
    session.commit()

    error = refusal(open_case, session, ELIMINATION, f"{VILLAGE}001", user(session, "village"),
                    household)

    assert error.code == "CASE_ALREADY_OPEN" and error.params["case_id"] == leftover.id


def test_a_monitoring_object_is_not_identified_again_until_its_risk_is_eliminated(
        session, helper, seeded):
    """SPEC §6: identification makes a monitoring object; only a risk elimination ends it, and
    only then can the household be identified again."""
    household = surveyed_household(session, helper, seeded)
    identified(session, household)
    area = f"{VILLAGE}001"

    again = refusal(open_case, session, IDENTIFICATION, area, helper, household)
    assessed(session, helper, seeded, household)
    case = open_case(session, ELIMINATION, area, user(session, "village"), household)
    case.step = "county_approval"
    act(session, case.id, Action.APPROVE, user(session, "county"), clock.today())
    session.commit()
    after = open_case(session, IDENTIFICATION, area, helper, household)

    assert again.code == "HOUSEHOLD_ALREADY_MONITORED" and again.status == 409
    assert after.status == "open"


def test_the_application_is_approved_only_with_the_signed_authorisation(session, helper,
                                                                        seeded):
    """SPEC §6: the household signs 附件1 before the home verification: on the phone (signature
    or the photo of the thumbprint) or uploaded at the step as the applicant's signature; a
    signature in another capacity does not stand in for it."""
    unsigned = surveyed_household(session, helper, seeded, applicant="")
    case = open_case(session, IDENTIFICATION, f"{VILLAGE}001", helper, unsigned)

    missing = refusal(act, session, case.id, Action.APPROVE, helper, TODAY)
    other = refusal(act, session, case.id, Action.APPROVE, helper, TODAY,
                    signatures=signed(IDENTIFICATION, Step.TOWNSHIP_REVIEW))
    act(session, case.id, Action.APPROVE, helper, TODAY,
        signatures=signed(IDENTIFICATION, Step.APPLICATION))

    assert missing.code == other.code == "SIGNATURE_MISSING"
    assert missing.params["missing"] == "applicant"
    assert missing.params["document"] == "附件1"
    assert case.step == "verification"


def test_a_thumbprint_photo_on_the_phone_signs_the_application(session, helper, seeded):
    """SPEC §6 / 附件1 申请人签字（按手印）: the photo of the thumbprint is the signature."""
    household = surveyed_household(session, helper, seeded, applicant=THUMBPRINT)
    case = open_case(session, IDENTIFICATION, f"{VILLAGE}001", helper, household)

    act(session, case.id, Action.APPROVE, helper, TODAY)

    assert case.step == "verification"


def test_the_village_and_township_rows_need_their_signers(session, helper, seeded):
    """SPEC §6 / 附件3: the village party secretary signs when the notice ends, the township
    party secretary and the township head at the township review; each missing one is named."""
    household = surveyed_household(session, helper, seeded)
    village, township = user(session, "village"), user(session, "township")
    case = open_case(session, IDENTIFICATION, f"{VILLAGE}001", helper, household)
    for who in (helper, helper, village):
        act(session, case.id, Action.APPROVE, who, TODAY)
    later = TODAY + timedelta(days=8)

    no_secretary = refusal(act, session, case.id, Action.APPROVE, village, later)
    act(session, case.id, Action.APPROVE, village, later,
        signatures=signed(IDENTIFICATION, Step.PUBLIC_NOTICE))
    only_secretary = refusal(act, session, case.id, Action.APPROVE, township, later,
                             signatures=signed(IDENTIFICATION, Step.TOWNSHIP_REVIEW)[:1])
    anonymous = refusal(act, session, case.id, Action.APPROVE, township, later,
                        signatures=[s["key"] for s in signed(IDENTIFICATION,
                                                             Step.TOWNSHIP_REVIEW)])
    act(session, case.id, Action.APPROVE, township, later,
        signatures=signed(IDENTIFICATION, Step.TOWNSHIP_REVIEW))

    assert no_secretary.params["missing"] == "village_secretary"
    assert only_secretary.params["missing"] == "township_head"
    assert anonymous.params["missing"] == "township_secretary township_head"
    assert case.step == "county_approval"
    [event] = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.from_step == "township_review")).all()
    assert {s["signer"] for s in event.signatures} == {"township_secretary", "township_head"}


def test_the_household_head_confirms_the_elimination_at_the_verification(session, helper,
                                                                           seeded):
    """SPEC §6 / 附件5 农户签字确认结果: the head signs on the phone (``sig_head``) or at the
    step; the elimination's village and township rows are signed as 附件3's."""
    household = surveyed_household(session, helper, seeded)
    monitoring_object(session, household)
    assessed(session, helper, seeded, household, head_signs=False)
    village = user(session, "village")
    case = open_case(session, ELIMINATION, f"{VILLAGE}001", village, household)
    act(session, case.id, Action.APPROVE, village, TODAY)  # the village's proposal

    unsigned = refusal(act, session, case.id, Action.APPROVE, helper, TODAY)
    assessed(session, helper, seeded, household)  # assessed again, the head signed this time
    act(session, case.id, Action.APPROVE, helper, TODAY)
    act(session, case.id, Action.APPROVE, village, TODAY)
    no_secretary = refusal(act, session, case.id, Action.APPROVE, village,
                           TODAY + timedelta(days=8))

    assert unsigned.code == "SIGNATURE_MISSING"
    assert unsigned.params["missing"] == "household_head"
    assert unsigned.params["document"] == "附件5"
    assert no_secretary.params["missing"] == "village_secretary"
    assert no_secretary.params["document"] == "附件5"

"""server.domain.pipeline: the identification and risk-elimination procedures (SPEC §6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.elimination import STANDARDS, elimination_findings
from server.domain.members import Severity
from server.domain.pipeline import (
    REQUIRED_SIGNERS,
    STEPS,
    Action,
    CaseState,
    Facts,
    PipelineError,
    Procedure,
    Signer,
    Status,
    Step,
    available_actions,
    check_opening,
    during_case,
    green_channel,
    notice_closes_on,
    transition,
)

DAY = date(2021, 6, 1)
ACTORS = {Step.APPLICATION: "helper", Step.PROPOSAL: "village", Step.VERIFICATION: "helper",
          Step.VILLAGE_REVIEW: "village", Step.PUBLIC_NOTICE: "village",
          Step.TOWNSHIP_REVIEW: "township", Step.COUNTY_APPROVAL: "county"}
SIGNED = frozenset(s.value for s in Signer)  # every signature the documents ask for
GOOD = Facts(team_size=2, contact_assigned=True, elimination_blockers=(), signers=SIGNED)


def refused(case, action=Action.APPROVE, role=None, today=DAY, facts=GOOD, reason="") -> str:
    with pytest.raises(PipelineError) as error:
        transition(case, action, role or ACTORS[case.step], today, facts, reason)
    return error.value.code


def run_to(procedure: Procedure, step: Step, today: date = DAY) -> CaseState:
    case = CaseState(procedure, STEPS[procedure][0])
    while case.step is not step:
        if case.step is Step.PUBLIC_NOTICE:
            today = notice_closes_on(case.notice_started, 7)
        case = transition(case, Action.APPROVE, ACTORS[case.step], today, GOOD)
    return case


@pytest.mark.parametrize("procedure", list(Procedure))
def test_a_case_walks_all_five_steps_to_done(procedure):
    case = run_to(procedure, Step.COUNTY_APPROVAL)

    done = transition(case, Action.APPROVE, "county", DAY + timedelta(days=30), GOOD)

    assert done.status is Status.DONE


def test_each_step_refuses_other_roles():
    case = run_to(Procedure.IDENTIFICATION, Step.TOWNSHIP_REVIEW)

    assert refused(case, role="village") == "STEP_ROLE"
    assert refused(case, role="county") == "STEP_ROLE"


def test_verification_needs_a_team_of_two():
    case = run_to(Procedure.IDENTIFICATION, Step.VERIFICATION)

    assert refused(case, facts=Facts(team_size=1)) == "TEAM_TOO_SMALL"


def test_the_notice_runs_seven_full_days_before_it_closes():
    """SPEC §6: township forwards only after 7 full calendar days of notice."""
    case = run_to(Procedure.IDENTIFICATION, Step.PUBLIC_NOTICE)
    assert case.notice_started == DAY

    assert refused(case, today=DAY + timedelta(days=7)) == "NOTICE_NOT_FINISHED"
    closed = transition(case, Action.APPROVE, "village", DAY + timedelta(days=8), GOOD)
    assert closed.step is Step.TOWNSHIP_REVIEW


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=40))
def test_a_notice_closes_exactly_when_its_days_are_full(days, waited):
    case = CaseState(Procedure.IDENTIFICATION, Step.PUBLIC_NOTICE, notice_started=DAY)
    facts = Facts(team_size=2, notice_days=days, signers=SIGNED)
    today = DAY + timedelta(days=waited)

    try:
        transition(case, Action.APPROVE, "village", today, facts)
        closed = True
    except PipelineError as error:
        assert error.code == "NOTICE_NOT_FINISHED"
        closed = False
    assert closed == (waited > days)


def test_an_open_objection_keeps_the_notice_open():
    case = run_to(Procedure.IDENTIFICATION, Step.PUBLIC_NOTICE)

    code = refused(case, today=DAY + timedelta(days=30),
                   facts=Facts(team_size=2, open_objections=1, signers=SIGNED))

    assert code == "NOTICE_OBJECTION_OPEN"


def test_a_return_goes_one_step_back_with_a_reason():
    case = run_to(Procedure.IDENTIFICATION, Step.TOWNSHIP_REVIEW)

    assert refused(case, Action.RETURN) == "REASON_REQUIRED"
    back = transition(case, Action.RETURN, "township", DAY, GOOD, "公示材料不全")
    assert back.step is Step.PUBLIC_NOTICE and back.notice_started == DAY  # restarted
    assert refused(CaseState(Procedure.IDENTIFICATION, Step.APPLICATION), Action.RETURN,
                   reason="x") == "RETURN_FROM_FIRST"


def test_a_return_into_the_public_notice_restarts_the_notice_that_day():
    """SPEC §6: the 7 days count from the start of the notice; a case returned into the notice
    (乡镇审核 → 村级公示) is posted again from that day, and can close 7 full days later — not
    never (the old code cleared the start, so the earliest end moved with every day)."""
    case = run_to(Procedure.IDENTIFICATION, Step.TOWNSHIP_REVIEW)
    returned_on = DAY + timedelta(days=20)

    back = transition(case, Action.RETURN, "township", returned_on, GOOD, "公示照片不清楚")

    assert back.notice_started == returned_on
    assert refused(back, today=returned_on + timedelta(days=7)) == "NOTICE_NOT_FINISHED"
    closed = transition(back, Action.APPROVE, "village", returned_on + timedelta(days=8), GOOD)
    assert closed.step is Step.TOWNSHIP_REVIEW
    to_review = transition(back, Action.RETURN, "village", returned_on, GOOD, "重新评议")
    assert to_review.step is Step.VILLAGE_REVIEW and to_review.notice_started is None


@pytest.mark.parametrize("procedure,step", list(REQUIRED_SIGNERS))
def test_an_approval_needs_the_signatures_its_document_requires(procedure, step):
    """SPEC §6: the applicant signs 附件1 before the verification; the village party secretary
    signs 附件3/附件5 when the notice ends, the township party secretary and the township head
    at the township review; the household head confirms 附件5 at the elimination's
    verification. Each missing one is named; any other signer does not stand in for it."""
    case = run_to(procedure, step)
    if step is Step.PUBLIC_NOTICE:
        case = replace(case, notice_started=DAY - timedelta(days=8))
    needed = {s.value for s in REQUIRED_SIGNERS[(procedure, step)]}

    for signer in needed:
        with pytest.raises(PipelineError) as error:
            transition(case, Action.APPROVE, ACTORS[step], DAY,
                       replace(GOOD, signers=SIGNED - {signer}))
        assert error.value.code == "SIGNATURE_MISSING"
        assert error.value.params["missing"] == signer
    with pytest.raises(PipelineError) as none:
        transition(case, Action.APPROVE, ACTORS[step], DAY, replace(GOOD, signers=frozenset()))
    assert set(none.value.params["missing"].split()) == needed
    moved = transition(case, Action.APPROVE, ACTORS[step], DAY, replace(GOOD, signers=needed))
    assert moved.step is not step


def test_the_county_seals_and_other_steps_need_no_signature_of_a_signer():
    """SPEC §6: 附件3/附件5 are sealed by the county (盖章), not signed; the identification's
    verification is signed by the team (TEAM_TOO_SMALL), not by a named signer."""
    for procedure in Procedure:
        for step in STEPS[procedure]:
            if (procedure, step) in REQUIRED_SIGNERS:
                continue
            case = run_to(procedure, step)
            if step is Step.PUBLIC_NOTICE:
                case = replace(case, notice_started=DAY - timedelta(days=8))
            moved = transition(case, Action.APPROVE, ACTORS[step], DAY,
                               replace(GOOD, signers=frozenset()))
            assert moved != case


@pytest.mark.parametrize("procedure,role,monitored,code", [
    (Procedure.ELIMINATION, "village", False, "ELIMINATION_NOT_MONITORED"),
    (Procedure.ELIMINATION, "helper", True, "ELIMINATION_PROPOSER"),
    (Procedure.ELIMINATION, "county", True, "ELIMINATION_PROPOSER"),
    (Procedure.IDENTIFICATION, "helper", True, "HOUSEHOLD_ALREADY_MONITORED"),
    (Procedure.IDENTIFICATION, "village", True, "HOUSEHOLD_ALREADY_MONITORED"),
])
def test_elimination_is_proposed_by_the_village_for_monitoring_objects_only(procedure, role,
                                                                             monitored, code):
    """SPEC §6: the village proposes names of monitoring objects for elimination; a household
    that is a monitoring object is not identified again."""
    with pytest.raises(PipelineError) as error:
        check_opening(procedure, role, monitored)

    assert error.value.code == code
    check_opening(Procedure.ELIMINATION, "village", True)
    check_opening(Procedure.IDENTIFICATION, role, False)


def test_a_rejection_ends_the_case():
    case = run_to(Procedure.IDENTIFICATION, Step.VILLAGE_REVIEW)

    ended = transition(case, Action.REJECT, "village", DAY, GOOD, "收入高于标准且无风险")

    assert ended.status is Status.REJECTED
    assert refused(ended, role="village") == "CASE_CLOSED"


def test_identification_needs_a_monitoring_contact_at_approval():
    case = run_to(Procedure.IDENTIFICATION, Step.COUNTY_APPROVAL)

    assert refused(case, facts=Facts(team_size=2)) == "CONTACT_REQUIRED"


def blockers(a34: str, **kwargs):
    findings = elimination_findings(
        a34=Decimal(a34), floor=Decimal("5000"), line=Decimal("6500"),
        standards=kwargs.get("standards", dict.fromkeys(STANDARDS, True)),
        labour_capacity=kwargs.get("labour", True), social_protection=kwargs.get("sp", False))
    return tuple(f for f in findings if f.severity is Severity.ERROR)


@pytest.mark.parametrize("facts,code", [
    (Facts(elimination_blockers=None), "ELIMINATION_NO_ASSESSMENT"),
    (Facts(elimination_blockers=blockers("4999")), "ELIMINATION_BELOW_FLOOR"),
    (Facts(elimination_blockers=blockers("8000", labour=False, sp=True)),
     "ELIMINATION_NOT_FOR_NOW"),
])
def test_county_approval_of_elimination_enforces_the_rules(facts, code):
    """SPEC §6: below the floor can't be eliminated; 暂不 for no labour on social protection."""
    case = run_to(Procedure.ELIMINATION, Step.COUNTY_APPROVAL)

    assert refused(case, facts=facts) == code


def test_above_the_floor_but_below_the_line_may_be_eliminated():
    case = run_to(Procedure.ELIMINATION, Step.COUNTY_APPROVAL)

    done = transition(case, Action.APPROVE, "county", DAY,
                      Facts(elimination_blockers=blockers("6000")))

    assert done.status is Status.DONE


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(day=days, opened=days, length=st.none() | st.integers(min_value=0, max_value=400))
def test_a_measure_belongs_to_a_case_when_dated_while_it_was_open(day, opened, length):
    """SPEC §6 green channel: a measure dated from the opening day to the closing day (both
    inclusive; an open case has no end) is on the case."""
    closed = None if length is None else opened + timedelta(days=length)

    inside = during_case(day, opened, closed)

    assert inside == (opened <= day and (closed is None or day <= closed))
    assert during_case(opened, opened, closed)
    assert not during_case(opened - timedelta(days=1), opened, closed)
    if closed is not None:
        assert during_case(closed, opened, closed)
        assert not during_case(closed + timedelta(days=1), opened, closed)


@given(day=days, opened=days)
def test_only_an_identification_makes_a_measure_green_channel(day, opened):
    """帮扶先行: assistance before the identification ends; not a risk-elimination notion."""
    assert green_channel(Procedure.IDENTIFICATION, day, opened, None) == (day >= opened)
    assert not green_channel(Procedure.ELIMINATION, day, opened, None)


def test_the_actions_offered_are_those_of_the_role_at_its_step_on_an_open_case():
    """SPEC §6: each step is acted on by its role; a step can return the case to the previous
    one (not the first step), and a closed case takes no action."""
    first = CaseState(Procedure.IDENTIFICATION, Step.APPLICATION)
    notice = CaseState(Procedure.IDENTIFICATION, Step.PUBLIC_NOTICE)

    assert available_actions(first, "helper") == (Action.APPROVE, Action.REJECT)
    assert available_actions(notice, "village") == (Action.APPROVE, Action.RETURN,
                                                    Action.REJECT)
    assert available_actions(notice, "township") == ()
    assert available_actions(replace(notice, status=Status.DONE), "village") == ()

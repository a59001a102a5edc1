"""The two procedures of SPEC §6 as a table of steps, and the one function that moves a case.

Identification (识别程序): application → home verification → village review → 7-day public
notice → township review → county comparison and approval → a monitoring object.
Risk elimination (风险消除程序): village proposal → home verification → village review →
7-day public notice → township review → county approval → 风险消除.

Every change of state goes through ``transition``; it returns the new state or raises a
PipelineError: a code of the catalogue (``server.domain.catalogue``) with the values its
message names.
Choices where the source is silent, documented here:
- the notice's days are full calendar days after the day it starts: a 7-day notice begun on
  1 June runs 2–8 June and can be closed from 9 June on;
- a return goes exactly one step back; from the first step there is nothing to return to;
  a return into the public notice restarts it that day (its 7 days count again from then);
- returns and rejections need a reason;
- the signatures a step's document needs (``REQUIRED_SIGNERS``) come with the approval that
  they sign, each with its signer's capacity (``Signer``); the phone's 附件1 / 附件5 signatures
  count for the applicant and the household head.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from server.domain.catalogue import CatalogueError, Message
from server.domain.members import Finding
from server.domain.roles import Role


class Procedure(StrEnum):
    IDENTIFICATION = "identification"
    ELIMINATION = "elimination"


class Step(StrEnum):
    APPLICATION = "application"  # 提交申请
    PROPOSAL = "proposal"  # 村级提名 (elimination)
    VERIFICATION = "verification"  # 入户核实
    VILLAGE_REVIEW = "village_review"  # 村评议
    PUBLIC_NOTICE = "public_notice"  # 公示
    TOWNSHIP_REVIEW = "township_review"  # 乡镇审核
    COUNTY_APPROVAL = "county_approval"  # 县级比对审定 / 审批


class Status(StrEnum):
    OPEN = "open"
    DONE = "done"  # identified as a monitoring object / risk eliminated
    REJECTED = "rejected"


class Action(StrEnum):
    APPROVE = "approve"  # the step is done: on to the next
    RETURN = "return"  # back one step, with a reason
    REJECT = "reject"  # the case ends, with a reason


STEPS: dict[Procedure, tuple[Step, ...]] = {
    Procedure.IDENTIFICATION: (Step.APPLICATION, Step.VERIFICATION, Step.VILLAGE_REVIEW,
                               Step.PUBLIC_NOTICE, Step.TOWNSHIP_REVIEW, Step.COUNTY_APPROVAL),
    Procedure.ELIMINATION: (Step.PROPOSAL, Step.VERIFICATION, Step.VILLAGE_REVIEW,
                            Step.PUBLIC_NOTICE, Step.TOWNSHIP_REVIEW, Step.COUNTY_APPROVAL),
}

PROCEDURE_NAMES = {Procedure.IDENTIFICATION: "识别程序", Procedure.ELIMINATION: "风险消除程序"}

STEP_NAMES = {
    Step.APPLICATION: "提交申请", Step.PROPOSAL: "村级提名", Step.VERIFICATION: "入户核实",
    Step.VILLAGE_REVIEW: "村民主评议", Step.PUBLIC_NOTICE: "村级公示",
    Step.TOWNSHIP_REVIEW: "乡镇审核", Step.COUNTY_APPROVAL: "县级审定",
}

ACTION_NAMES = {Action.APPROVE: "通过", Action.RETURN: "退回", Action.REJECT: "驳回"}
STATUS_NAMES = {Status.OPEN: "办理中", Status.DONE: "已办结", Status.REJECTED: "已驳回"}

# Who acts at each step.
ROLES: dict[Step, frozenset[str]] = {
    Step.APPLICATION: frozenset({Role.HELPER, Role.VILLAGE}),
    Step.PROPOSAL: frozenset({Role.VILLAGE}),
    Step.VERIFICATION: frozenset({Role.HELPER, Role.VILLAGE, Role.TOWNSHIP}),
    Step.VILLAGE_REVIEW: frozenset({Role.VILLAGE}),
    Step.PUBLIC_NOTICE: frozenset({Role.VILLAGE}),
    Step.TOWNSHIP_REVIEW: frozenset({Role.TOWNSHIP}),
    Step.COUNTY_APPROVAL: frozenset({Role.COUNTY}),
}
MINIMUM_TEAM = 2


class Signer(StrEnum):
    """The capacity in which someone signs a case's document (附件1, 附件3, 附件5)."""

    APPLICANT = "applicant"  # 申请人签字（按手印）, 附件1
    HOUSEHOLD_HEAD = "household_head"  # 户主签名, 附件5 农户签字确认结果
    VILLAGE_SECRETARY = "village_secretary"  # 村（居委会）支部书记, 附件3/附件5
    TOWNSHIP_SECRETARY = "township_secretary"  # 乡镇党委（街道）书记, 附件3/附件5
    TOWNSHIP_HEAD = "township_head"  # 乡镇长（街道主任）, 附件3/附件5


SIGNER_NAMES = {
    Signer.APPLICANT: "申请人（附件1）", Signer.HOUSEHOLD_HEAD: "户主（附件5）",
    Signer.VILLAGE_SECRETARY: "村（居委会）支部书记", Signer.TOWNSHIP_SECRETARY: "乡镇党委书记",
    Signer.TOWNSHIP_HEAD: "乡镇长",
}

# The signatures an approval needs (SPEC §6; 附件1, 附件3 and 附件5 of the source).
# - Identification: the signed 附件1 is the precondition of the home verification ("对提出申请并
#   签署委托书的农户…入户核实"), so the application step is approved only with it; the village
#   row of 附件3 is filled and signed by the village party secretary when the notice has ended
#   ("公示期满…填写附件3…报乡镇"), so with the approval that ends the notice and sends the list to
#   the township; the township row by the party secretary and the township head.
# - Elimination (附件5): the household head confirms the result at the home verification
#   ("核实组成员与监测对象分别在表上签字"; the team is counted by TEAM_TOO_SMALL); the village
#   row after the notice ("公示期满…填写附件5"), the township row as in 附件3.
# - The county seals (盖章): no signature is asked there.
REQUIRED_SIGNERS: dict[tuple[Procedure, Step], tuple[Signer, ...]] = {
    (Procedure.IDENTIFICATION, Step.APPLICATION): (Signer.APPLICANT,),
    (Procedure.IDENTIFICATION, Step.PUBLIC_NOTICE): (Signer.VILLAGE_SECRETARY,),
    (Procedure.IDENTIFICATION, Step.TOWNSHIP_REVIEW): (Signer.TOWNSHIP_SECRETARY,
                                                       Signer.TOWNSHIP_HEAD),
    (Procedure.ELIMINATION, Step.VERIFICATION): (Signer.HOUSEHOLD_HEAD,),
    (Procedure.ELIMINATION, Step.PUBLIC_NOTICE): (Signer.VILLAGE_SECRETARY,),
    (Procedure.ELIMINATION, Step.TOWNSHIP_REVIEW): (Signer.TOWNSHIP_SECRETARY,
                                                    Signer.TOWNSHIP_HEAD),
}
_DOCUMENT = {Procedure.IDENTIFICATION: "附件3", Procedure.ELIMINATION: "附件5"}


def required_signers(procedure: Procedure, step: Step) -> tuple[Signer, ...]:
    return REQUIRED_SIGNERS.get((procedure, step), ())


# Who opens a case. A risk elimination starts with the village's list of names ("由村（居）
# “两委”和驻村工作队…提出拟消除风险的监测对象名单", SPEC §6 "the village proposes names"), so
# only the village role opens one; an identification is opened by whoever finds the household
# (a self-declaration, a cadre's visit, a department warning), as before.
OPENING_ROLES: dict[Procedure, frozenset[str]] = {Procedure.ELIMINATION: ROLES[Step.PROPOSAL]}


class PipelineError(CatalogueError):
    """A rule of the procedures refuses: its catalogue code and values."""


def check_opening(procedure: Procedure, role: str, monitored: bool) -> None:
    """Whether a case of ``procedure`` may be opened by ``role`` for a household that is (or
    is not) a monitoring object now (SPEC §6): an identification only for a household that is
    not one, an elimination only for one, proposed by the village. The codes are the error
    catalogue's."""
    if procedure in OPENING_ROLES and role not in OPENING_ROLES[procedure]:
        raise PipelineError("ELIMINATION_PROPOSER")
    if procedure is Procedure.ELIMINATION and not monitored:
        raise PipelineError("ELIMINATION_NOT_MONITORED")
    if procedure is Procedure.IDENTIFICATION and monitored:
        raise PipelineError("HOUSEHOLD_ALREADY_MONITORED")


@dataclass(frozen=True)
class CaseState:
    procedure: Procedure
    step: Step
    status: Status = Status.OPEN
    notice_started: date | None = None


@dataclass(frozen=True)
class Facts:
    """What the rules of a step look at, gathered by the caller from the registry."""

    team_size: int = 0  # verification team members who signed
    open_objections: int = 0  # objections to the public notice not yet closed
    notice_days: int = 7  # the province's figure (7 in Hunan)
    contact_assigned: bool = False  # a monitoring-assistance contact (identification)
    # Elimination: the blocking findings of domain.elimination.elimination_findings on the
    # household's latest assessment (floor, standards, "not for now"), or None if it has none.
    elimination_blockers: tuple[Finding, ...] | None = None
    # The capacities (Signer values) of the signatures given for this approval: uploaded with
    # it, and the phone's applicant / household-head signature where the step takes it.
    signers: frozenset[str] = frozenset()


def available_actions(case: CaseState, role: str) -> tuple[Action, ...]:
    """The actions ``role`` may take on the case now, to offer them: none on a closed case or
    at a step another role acts at; no return from the first step. ``transition`` still
    decides each one with the facts (signatures, the notice's days, objections …)."""
    if case.status is not Status.OPEN or role not in ROLES[case.step]:
        return ()
    first = STEPS[case.procedure].index(case.step) == 0
    return tuple(a for a in Action if not (a is Action.RETURN and first))


def notice_closes_on(started: date, days: int) -> date:
    """The first day a notice begun on ``started`` may be closed (``days`` full days after)."""
    return started + timedelta(days=days + 1)


def transition(case: CaseState, action: Action, role: str, today: date, facts: Facts,
               reason: str = "") -> CaseState:
    if case.status is not Status.OPEN:
        raise PipelineError("CASE_CLOSED")
    if role not in ROLES[case.step]:
        raise PipelineError("STEP_ROLE", step=case.step.value, step_name=STEP_NAMES[case.step])
    steps = STEPS[case.procedure]
    index = steps.index(case.step)
    if action is Action.REJECT:
        _need_reason(reason)
        return replace(case, status=Status.REJECTED)
    if action is Action.RETURN:
        _need_reason(reason)
        if index == 0:
            raise PipelineError("RETURN_FROM_FIRST")
        back = steps[index - 1]
        # Back into the public notice: it starts again today and runs its full days again.
        return replace(case, step=back,
                       notice_started=today if back is Step.PUBLIC_NOTICE else None)
    _check_approval(case, facts, today)
    if index == len(steps) - 1:
        return replace(case, status=Status.DONE)
    following = steps[index + 1]
    started = today if following is Step.PUBLIC_NOTICE else case.notice_started
    return replace(case, step=following, notice_started=started)


def _need_reason(reason: str) -> None:
    if not reason.strip():
        raise PipelineError("REASON_REQUIRED")


def _check_approval(case: CaseState, facts: Facts, today: date) -> None:
    if case.step is Step.VERIFICATION and facts.team_size < MINIMUM_TEAM:
        raise PipelineError("TEAM_TOO_SMALL", minimum=MINIMUM_TEAM, team=facts.team_size)
    if case.step is Step.PUBLIC_NOTICE:
        opens = notice_closes_on(case.notice_started or today, facts.notice_days)
        if today < opens:
            raise PipelineError("NOTICE_NOT_FINISHED", days=facts.notice_days,
                                ends_on=opens.isoformat())
        if facts.open_objections:
            raise PipelineError("NOTICE_OBJECTION_OPEN", open=facts.open_objections)
    missing = [s for s in required_signers(case.procedure, case.step) if s not in facts.signers]
    if missing:
        document = "附件1" if missing == [Signer.APPLICANT] else _DOCUMENT[case.procedure]
        raise PipelineError("SIGNATURE_MISSING", missing=" ".join(s.value for s in missing),
                            step=case.step.value, step_name=STEP_NAMES[case.step],
                            signer_names="、".join(SIGNER_NAMES[s] for s in missing),
                            document=document)
    if case.step is not Step.COUNTY_APPROVAL:
        return
    if case.procedure is Procedure.IDENTIFICATION and not facts.contact_assigned:
        raise PipelineError("CONTACT_REQUIRED")
    if case.procedure is Procedure.ELIMINATION:
        if facts.elimination_blockers is None:
            raise PipelineError("ELIMINATION_NO_ASSESSMENT")
        if facts.elimination_blockers:
            first, *others = facts.elimination_blockers
            raise PipelineError(first.code, also=[Message(f.code, **f.params) for f in others],
                                **first.params)


# Green channel (绿色通道, 帮扶先行): assistance may start before the identification procedure
# ends, and the measures stay linked to it. A measure belongs to a case when its date (the
# measures form's 帮扶措施录入日期) falls while the case was open, both ends inclusive, in the
# users' calendar (Asia/Shanghai); it is green-channel when that case is an identification.
def during_case(day: date, opened_on: date, closed_on: date | None) -> bool:
    """Whether ``day`` falls while a case opened on ``opened_on`` was open."""
    return opened_on <= day and (closed_on is None or day <= closed_on)


def green_channel(procedure: Procedure, day: date, opened_on: date,
                  closed_on: date | None) -> bool:
    """Whether a measure dated ``day`` was taken before the identification ended (帮扶先行)."""
    return procedure is Procedure.IDENTIFICATION and during_case(day, opened_on, closed_on)

"""The two procedures of SPEC §6 as a table of steps, and the one function that moves a case.

Identification (识别程序): application → home verification → village review → 7-day public
notice → township review → county comparison and approval → a monitoring object.
Risk elimination (风险消除程序): village proposal → home verification → village review →
7-day public notice → township review → county approval → 风险消除.

Every change of state goes through ``transition``; it returns the new state or raises a
PipelineError whose code is in the error catalogue and whose message names the rule.
Choices where the source is silent, documented here:
- the notice's days are full calendar days after the day it starts: a 7-day notice begun on
  1 June runs 2–8 June and can be closed from 9 June on;
- a return goes exactly one step back; from the first step there is nothing to return to;
- returns and rejections need a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from server.domain.members import Finding


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

STEP_NAMES = {
    Step.APPLICATION: "提交申请", Step.PROPOSAL: "村级提名", Step.VERIFICATION: "入户核实",
    Step.VILLAGE_REVIEW: "村民主评议", Step.PUBLIC_NOTICE: "村级公示",
    Step.TOWNSHIP_REVIEW: "乡镇审核", Step.COUNTY_APPROVAL: "县级审定",
}

# Who acts at each step (roles of server.accounts.models.Role, by value).
ROLES: dict[Step, frozenset[str]] = {
    Step.APPLICATION: frozenset({"helper", "village"}),
    Step.PROPOSAL: frozenset({"village"}),
    Step.VERIFICATION: frozenset({"helper", "village", "township"}),
    Step.VILLAGE_REVIEW: frozenset({"village"}),
    Step.PUBLIC_NOTICE: frozenset({"village"}),
    Step.TOWNSHIP_REVIEW: frozenset({"township"}),
    Step.COUNTY_APPROVAL: frozenset({"county"}),
}
MINIMUM_TEAM = 2


class PipelineError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


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


def notice_closes_on(started: date, days: int) -> date:
    """The first day a notice begun on ``started`` may be closed (``days`` full days after)."""
    return started + timedelta(days=days + 1)


def transition(case: CaseState, action: Action, role: str, today: date, facts: Facts,
               reason: str = "") -> CaseState:
    if case.status is not Status.OPEN:
        raise PipelineError("CASE_CLOSED", "该案件已办结，不能再办理")
    if role not in ROLES[case.step]:
        raise PipelineError("STEP_ROLE", f"“{STEP_NAMES[case.step]}”环节不由您的角色办理")
    steps = STEPS[case.procedure]
    index = steps.index(case.step)
    if action is Action.REJECT:
        _need_reason(reason)
        return replace(case, status=Status.REJECTED)
    if action is Action.RETURN:
        _need_reason(reason)
        if index == 0:
            raise PipelineError("RETURN_FROM_FIRST", "第一个环节无法退回")
        return replace(case, step=steps[index - 1], notice_started=None)
    _check_approval(case, facts, today)
    if index == len(steps) - 1:
        return replace(case, status=Status.DONE)
    following = steps[index + 1]
    started = today if following is Step.PUBLIC_NOTICE else case.notice_started
    return replace(case, step=following, notice_started=started)


def _need_reason(reason: str) -> None:
    if not reason.strip():
        raise PipelineError("REASON_REQUIRED", "退回或驳回必须填写理由")


def _check_approval(case: CaseState, facts: Facts, today: date) -> None:
    if case.step is Step.VERIFICATION and facts.team_size < MINIMUM_TEAM:
        raise PipelineError("TEAM_TOO_SMALL",
                            f"入户核实须由至少{MINIMUM_TEAM}人组成的核实小组完成并签字")
    if case.step is Step.PUBLIC_NOTICE:
        opens = notice_closes_on(case.notice_started or today, facts.notice_days)
        if today < opens:
            raise PipelineError("NOTICE_NOT_FINISHED",
                                f"公示须满{facts.notice_days}日，{opens.isoformat()}起方可结束")
        if facts.open_objections:
            raise PipelineError("NOTICE_OBJECTION_OPEN",
                                f"公示期间有{facts.open_objections}件异议尚未核实办结")
    if case.step is not Step.COUNTY_APPROVAL:
        return
    if case.procedure is Procedure.IDENTIFICATION and not facts.contact_assigned:
        raise PipelineError("CONTACT_REQUIRED", "监测对象须落实监测帮扶联系人后方可审定")
    if case.procedure is Procedure.ELIMINATION:
        if facts.elimination_blockers is None:
            raise PipelineError("ELIMINATION_NO_ASSESSMENT", "该户尚无风险消除评估（附件4/附件5）")
        if facts.elimination_blockers:
            first = facts.elimination_blockers[0]
            raise PipelineError(first.code, "；".join(f.message
                                                     for f in facts.elimination_blockers))


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

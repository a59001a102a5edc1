"""What became of a self-declaration (农户自主申报, SPEC §2.4 and §6 step 1).

A declaration is the application (提交申请) of the identification procedure. Taken in, it
ends in one of these states; each change is audited (``server.declarations.services``):

- ``new``: stored, not yet followed (declarations taken in before cases were opened for them);
- ``case_opened``: the registered household got an identification case of origin 01;
- ``joined``: the household (or the unregistered family) already had an open identification
  case: the declaration joined it, never a second case;
- ``pending_visit``: the family is not in the registry: a case was opened on the declaration
  itself, in the declared area, and the village must visit and survey the family;
- ``household_attached``: a later survey registered the family; its case has the household;
- ``monitored``: the household already is a monitoring object (监测对象): the declaration is
  recorded for its monitoring contact and the village, and no identification case is opened
  (a product choice: identification would only make it what it already is).
"""

from __future__ import annotations

from enum import StrEnum


class DeclarationState(StrEnum):
    NEW = "new"
    CASE_OPENED = "case_opened"
    JOINED = "joined"
    PENDING_VISIT = "pending_visit"
    HOUSEHOLD_ATTACHED = "household_attached"
    MONITORED = "monitored"


STATE_LABELS = {
    DeclarationState.NEW: "已收到",
    DeclarationState.CASE_OPENED: "已启动识别程序",
    DeclarationState.JOINED: "已并入未办结的识别案件",
    DeclarationState.PENDING_VISIT: "未在登记册中，待村入户核实",
    DeclarationState.HOUSEHOLD_ATTACHED: "已入户采集，案件已关联农户",
    DeclarationState.MONITORED: "已是监测对象，不另启动识别程序",
}


def intake_state(registered: bool, monitored: bool, open_case: bool) -> DeclarationState:
    """The state a declaration takes on arrival.

    ``registered``: its head is in a household of the registry; ``monitored``: that household
    is a monitoring object; ``open_case``: the household (or, unregistered, the same declared
    head) has an open identification case.
    """
    if registered and monitored:
        return DeclarationState.MONITORED
    if open_case:
        return DeclarationState.JOINED
    return DeclarationState.CASE_OPENED if registered else DeclarationState.PENDING_VISIT

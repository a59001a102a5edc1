"""Use cases of the registry: take a stored submission in (validate, dedup, write).

``take_in`` runs in the request that stored the submission (``TAKE_IN=inline``) or in the
worker, each take-in under a savepoint: a failure of the registry part rolls back only that
part, so what the phone sent is never lost. A take-in that raises marks its submission
``failed`` with the error kept (visible in the review queue; ``fangpin apply-pending --failed``
tries again after a fix) — except when the database itself is unreachable: then it stays
``received`` for the next try.
Two phones racing on one household end in one household: the database refuses the second
insert of a person (unique ID number) and the decision is taken again, now with that person
known.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from datetime import date

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import User
from server.audit.services import record
from server.db import insert_ignoring_duplicates
from server.declarations.services import attach_declared_household
from server.dedup.models import Conflict, DuplicateFlag
from server.domain.codes import YES
from server.domain.dedup import (
    Claim,
    ConflictKind,
    Decision,
    Incoming,
    Outcome,
    PersonKey,
    Registry,
    Resolution,
    decide,
    likely_same,
    pair,
)
from server.domain.elimination import STANDARDS, elimination_findings
from server.domain.fields import BY_NAME
from server.domain.figures import FigureKind, FigureMissing
from server.domain.income import IncomeItems, derive
from server.domain.members import Severity, has_labour_capacity
from server.domain.money import CENT
from server.domain.survey import (
    INCOME_FIELDS,
    Problem,
    Survey,
    blank,
    phone_differences,
    read_survey,
    read_values,
)
from server.figures.services import figure_in_force
from server.forms.models import FormVersion
from server.households.declarations import apply_declaration
from server.households.models import (
    EliminationAssessment,
    Household,
    MeasureRecord,
    Person,
    SurveyVersion,
)
from server.submissions.instance import Element, InstanceValues, instance_values, parse
from server.submissions.models import Submission, SubmissionState

log = logging.getLogger(__name__)
SURVEY_FORMS = frozenset({"household"})
SOCIAL_PROTECTION = "a48_social_protection"  # 综合保障 (兜底保障类)
_ATTEMPTS = 3


def take_in(session: Session, submission_id: int, root: Element | None = None) -> str | None:
    """``apply_submission`` that cannot fail the caller's transaction (logged instead).

    ``root`` is the instance the caller has already parsed (ingest did), so it is not parsed
    twice on the submission's hot path.
    """
    try:
        return apply_submission(session, submission_id, root=root)
    except Exception:
        log.exception("submission %s stays received: taking it in failed", submission_id)
        return None


def apply_submission(session: Session, submission_id: int, today: date | None = None,
                     root: Element | None = None) -> str:
    """Take one stored submission into the registry; returns the submission's new state.

    Each attempt runs under a savepoint: whatever fails rolls back only the registry's part.
    An unexpected error marks the submission ``failed`` (kept, with the error, for review);
    a database that cannot be reached raises, and the submission stays ``received``.
    """
    today = today or clock.today()
    for attempt in range(_ATTEMPTS):
        savepoint = session.begin_nested()
        try:
            state = _apply(session, submission_id, today, root)
        except IntegrityError as exc:
            # Another request inserted the same person or head meanwhile: decide again.
            savepoint.rollback()
            if attempt == _ATTEMPTS - 1:
                return _fail(session, submission_id, exc)
            continue
        except (OperationalError, InterfaceError):
            savepoint.rollback()
            raise
        except Exception as exc:
            savepoint.rollback()
            return _fail(session, submission_id, exc)
        savepoint.commit()
        return state
    raise AssertionError("unreachable")


def _fail(session: Session, submission_id: int, exc: Exception) -> str:
    """Keep a submission whose take-in raised as ``failed``, with the error, for a reviewer."""
    log.error("taking submission %s in failed", submission_id, exc_info=exc)
    submission = session.get(Submission, submission_id)
    detail = f"{type(exc).__name__}: {exc}"[:500]
    problem = Problem(Severity.ERROR, "TAKE_IN_FAILED", "",
                      f"服务器处理该提交时出错，已保留待处理（{detail}）")
    return _finish(session, submission, SubmissionState.FAILED, [problem])


def _apply(session: Session, submission_id: int, today: date, root: Element | None) -> str:
    submission = session.get(Submission, submission_id, with_for_update=False)
    if submission.state != SubmissionState.RECEIVED:
        return submission.state
    form_id = session.scalar(select(FormVersion.form_id)
                             .where(FormVersion.id == submission.form_version_id))
    if root is None:
        root = parse(submission.xml.encode("utf-8")).root
    values = _corrected(instance_values(root), submission.corrections or {})
    if form_id in FOLLOW_UPS:
        return FOLLOW_UPS[form_id](session, submission, values, today)
    if form_id not in SURVEY_FORMS:
        return _finish(session, submission, SubmissionState.IGNORED, [])
    return _take_in_survey(session, submission, values, form_id, today)


def _take_in_survey(session: Session, submission: Submission, values: InstanceValues,
                    form_id: str, today: date) -> str:
    """A household survey: validate, decide against the registry (SPEC §5), write or hold."""
    province = (values.household.get("addr_county") or "")[:2]
    line = _figure(session, province, values, today)
    survey = read_survey(values.household, values.members, line, today)
    if any(m.deceased for m in survey.members):
        deaths = _deaths_on_record(session, survey)
        if deaths:
            survey = read_survey(values.household, values.members, line, today, deaths)
    if survey.errors:
        return _finish(session, submission, SubmissionState.INVALID, survey.problems)
    people = [Incoming(m.index, m.id_number.value, m.name, m.is_head)
              for m in survey.members if m.id_number is not None]
    submitter_area = session.scalar(select(User.area_code).where(
        User.id == submission.submitter_id)) or ""
    claim = Claim(submitter_area, _area(survey), _resurveyed(session, values))
    registry = _registry(session, people, claim.resurveys)
    decision = decide(people, claim, registry)
    notes: dict[tuple[str, str], str] = {}
    if decision.outcome is Outcome.CONFLICT:
        # Only a held submission that a reviewer resolved has authorisations: look them up
        # then (they can only turn conflicts into moves, never change a clean decision).
        notes, allowed = _authorisations(session, submission.id)
        if allowed:
            decision = decide(people, claim, registry, allowed)
    if decision.outcome is Outcome.CONFLICT:
        _hold(session, submission, decision)
        held = [Problem(Severity.ERROR, f"CONFLICT_{c.kind.upper()}", "A7", c.message,
                        c.member_indexes[0] if len(c.member_indexes) == 1 else None)
                for c in decision.conflicts]
        return _finish(session, submission, SubmissionState.HELD, survey.problems + held)
    household = _write_household(session, submission, survey, decision, values.entity_id,
                                 form_id, notes)
    _flag_likely_duplicates(session, submission, survey)
    submission.household_id = household.id
    return _finish(session, submission, SubmissionState.APPLIED, survey.problems)


def _deaths_on_record(session: Session, survey: Survey) -> frozenset[str]:
    """The roster's deceased whom the registry already holds as deceased (SPEC §2)."""
    ids = [m.id_number.value for m in survey.members if m.deceased and m.id_number]
    return frozenset(session.scalars(select(Person.id_number).where(
        Person.id_number.in_(ids), Person.deceased.is_(True))))


def _resurveyed(session: Session, values: InstanceValues) -> str | None:
    """The registered household a survey resurveys: the phone's entity when it is one (the
    form's ``resurvey`` = 是 updates the picked entity), else the form's pick; None: new."""
    for candidate in (values.entity_id,
                      values.household.get("household")
                      if values.household.get("resurvey") == YES else None):
        if candidate and session.get(Household, candidate) is not None:
            return candidate
    return None


def _registry(session: Session, people: list[Incoming], resurveys: str | None) -> Registry:
    """What the registry holds about the submission's people and the households involved."""
    known = dict(session.execute(select(Person.id_number, Person.household_id).where(
        Person.id_number.in_([p.id_number for p in people]),
        Person.household_id.is_not(None))).all())
    involved = set(known.values()) | ({resurveys} if resurveys else set())
    if not involved:  # a new household of new people: nothing more to look up
        return Registry(known)
    areas = dict(session.execute(select(Household.id, Household.area_code)
                                 .where(Household.id.in_(involved))).all())
    living: dict[str, set[str]] = {}
    for household_id, id_number in session.execute(
            select(Person.household_id, Person.id_number).where(
                Person.household_id.in_(involved), Person.deceased.is_(False))):
        living.setdefault(household_id, set()).add(id_number)
    return Registry(known, areas, {h: frozenset(ids) for h, ids in living.items()})


def _authorisations(session: Session, submission_id: int):
    """A reviewer's resolutions of the submission's earlier conflicts, by (kind, ID number),
    with their notes (the reason a person moved, said in the audit)."""
    notes: dict[tuple[str, str], str] = {}
    allowed: dict[tuple[str, str], Resolution] = {}
    for kind, id_number, resolution, note in session.execute(
            select(Conflict.kind, Conflict.id_number, Conflict.resolution, Conflict.note)
            .where(Conflict.submission_id == submission_id, Conflict.status == "resolved")
            .order_by(Conflict.id)):
        allowed[(kind, id_number)] = Resolution(resolution)
        notes[(kind, id_number)] = note or ""
    return notes, allowed


def _corrected(values: InstanceValues, corrections: dict[str, str]) -> InstanceValues:
    """A supervisor's corrections over the phone's answers (``members[n]/field`` or ``field``)."""
    for key, value in corrections.items():
        if key.startswith("members["):
            index, name = key.removeprefix("members[").split("]/", 1)
            while len(values.members) < int(index):
                values.members.append({})
            values.members[int(index) - 1][name] = value
        else:
            values.household[key] = value
    return values


def _figure(session: Session, province: str, values, today: date,
            kind: FigureKind = FigureKind.MONITORING_LINE):
    """The figure in force for the visit year of ``values`` (None when the province has none)."""
    visit = values.household.get("visit_date", "")[:4]
    year = int(visit) if visit.isdigit() else today.year
    try:
        return figure_in_force(session, province, year, kind).value
    except FigureMissing:
        return None


def _picked_household(session: Session, submission: Submission, values,
                      problems: list[Problem]) -> Household | None:
    """The household a follow-up form picked from the entity list, if it is the submitter's."""
    household = session.get(Household, values.household.get("household", ""))
    submitter_area = session.scalar(select(User.area_code).where(
        User.id == submission.submitter_id))
    if household is None or not household.area_code.startswith(submitter_area or "-"):
        problems.append(Problem(Severity.ERROR, "HOUSEHOLD_UNKNOWN", "户",
                                "所选农户不在登记册中或不属于您的区域"))
        return None
    return household


def _apply_measures(session: Session, submission: Submission, values, today: date) -> str:
    problems: list[Problem] = []
    household = _picked_household(session, submission, values, problems)
    typed = read_values(values.household, list(values.household), today, problems)
    chosen = [name for name in typed if name.startswith("a") and name[1:3].isdigit()
              and 39 <= int(name[1:3]) <= 52 and not name.endswith("_effect")]
    if not chosen:
        problems.append(Problem(Severity.ERROR, "MEASURES_EMPTY", "A39–A52",
                                "至少应录入一项帮扶措施"))
    if household is None or any(p.severity is Severity.ERROR for p in problems):
        return _finish(session, submission, SubmissionState.INVALID, problems)
    session.add(MeasureRecord(
        household_id=household.id, submission_id=submission.id,
        measure_date=typed.get("measure_date") or today,
        green_channel=typed.get("green_channel") == YES,
        values={k: _plain(v) for k, v in typed.items()}))
    submission.household_id = household.id
    record(session, "measures.recorded", "household", household.id, None,
           submission_id=submission.id, measures=chosen)
    return _finish(session, submission, SubmissionState.APPLIED, problems)


def _apply_elimination(session: Session, submission: Submission, values, today: date) -> str:
    """附件4/附件5 data. The household size and A33–A38 are the server's, from the registry's
    roster (its living members) — the form's size is only the phone's prefill, kept where it
    differs (SPEC §3, §6: the floor cannot be bypassed by a smaller size on the form)."""
    problems: list[Problem] = []
    household = _picked_household(session, submission, values, problems)
    typed = read_values(values.household, list(values.household), today, problems)
    size = session.scalar(select(func.count()).select_from(Person).where(
        Person.household_id == household.id, Person.deceased.is_(False))) if household else 0
    if household is not None and not size:
        problems.append(Problem(Severity.ERROR, "HOUSEHOLD_NO_MEMBERS", "家庭人口",
                                "登记册中该户没有在世成员，无法计算人均收入"))
    for name in blank(values.household, INCOME_FIELDS):  # a bad value is already a problem
        problems.append(Problem(Severity.ERROR, "FIELD_REQUIRED", BY_NAME[name].code,
                                "收支情况不能为空（没有则填0）"))
    province = household.area_code[:2] if household else ""
    line = _figure(session, province, values, today)
    floor = _figure(session, province, values, today, kind=FigureKind.ELIMINATION_FLOOR)
    if line is None or floor is None:
        problems.append(Problem(Severity.ERROR, "FIGURE_MISSING", "A34",
                                "没有该年度的监测范围基准线或风险消除底线"))
    if household is None or any(p.severity is Severity.ERROR for p in problems):
        return _finish(session, submission, SubmissionState.INVALID, problems)
    derived = derive(IncomeItems(*(typed[name] for name in INCOME_FIELDS)), size)
    differs = phone_differences(values.household, derived, size)
    if differs:
        problems.append(Problem(Severity.WARNING, "PHONE_DIFFERS", "家庭人口/A33–A38",
                                "手机计算值与服务器按登记册计算的值不同，以服务器为准："
                                + "；".join(f"{k} 手机 {a}，服务器 {b}"
                                           for k, (a, b) in differs.items())))
    latest = session.get(SurveyVersion, household.latest_survey_id)
    members = latest.member_values if latest else []
    capable = has_labour_capacity(members)
    protected = any(SOCIAL_PROTECTION in measures for measures in session.scalars(
        select(MeasureRecord.values).where(MeasureRecord.household_id == household.id)))
    for finding in elimination_findings(
            a34=derived.a34_net_income_per_capita, floor=floor, line=line,
            standards={name: typed.get(name) == YES for name in STANDARDS},
            labour_capacity=capable, social_protection=protected):
        problems.append(Problem(finding.severity, finding.code, finding.field, finding.message))
    eligible = not any(p.severity is Severity.ERROR for p in problems)
    session.add(EliminationAssessment(
        household_id=household.id, submission_id=submission.id,
        visit_date=typed.get("visit_date") or today, size=size,
        values={k: _plain(v) for k, v in typed.items()},
        a33_net_income=derived.a33_net_income,
        a34_net_income_per_capita=_cents(derived.a34_net_income_per_capita),
        a37_income_reference=derived.a37_income_reference,
        a38_income_reference_per_capita=_cents(derived.a38_income_reference_per_capita),
        method=typed.get("a53_elimination_method"), eligible=eligible,
        phone_differs={k: list(v) for k, v in differs.items()}))
    submission.household_id = household.id
    record(session, "elimination.assessed", "household", household.id, None,
           submission_id=submission.id, eligible=eligible, size=size)
    # An assessment that a rule blocks is still the household's record: kept and applied,
    # with its findings; the pipeline refuses to eliminate on it.
    return _finish(session, submission, SubmissionState.APPLIED, problems)


FOLLOW_UPS = {
    "measures": _apply_measures,
    "elimination": _apply_elimination,
    "declaration": apply_declaration,
}


def _finish(session: Session, submission: Submission, state: SubmissionState,
            problems: list[Problem]) -> str:
    submission.state = state
    submission.problems = [
        {"severity": p.severity.value, "code": p.code, "field": p.field, "member": p.member,
         "message": p.text} for p in problems]
    submission.applied_at = func.now()
    session.flush()
    record(session, f"submission.{state}", "submission", submission.id, None,
           household_id=submission.household_id,
           errors=len([p for p in problems if p.severity is Severity.ERROR]) or None)
    return state


def _hold(session: Session, submission: Submission, decision: Decision) -> None:
    for conflict in decision.conflicts:
        session.add(Conflict(submission_id=submission.id, kind=conflict.kind.value,
                             id_number=conflict.id_number,
                             member_indexes=list(conflict.member_indexes),
                             households=list(conflict.households),
                             area_code=conflict.area_code))


def _write_household(session: Session, submission: Submission, survey: Survey,
                     decision: Decision, entity_id: str | None, form_id: str,
                     notes: dict[tuple[str, str], str]) -> Household:
    """Write the survey into its household. People change household only as the decision says
    (a reviewer's resolution): each one moved in or leaving is named in the audit log."""
    created = decision.outcome is Outcome.CREATE
    if created:  # its id is made here, so nothing needs flushing before the people
        household = Household(id=_new_household_id(session, entity_id),
                              area_code=_area(survey), created_by_submission_id=submission.id)
        session.add(household)
    else:
        household = session.get(Household, decision.household_id, with_for_update=True)
    household.area_code = _area(survey) or household.area_code
    household.phone = str(survey.household.get("phone") or household.phone or "") or None
    household.size = survey.size
    household.updated_by_submission_id = submission.id
    household.updated_at = func.now()
    household.monitoring_type = survey.household.get("a3_monitoring_type",
                                                     household.monitoring_type)
    current = {p.id_number: p for p in session.scalars(
        select(Person).where(Person.id_number.in_(
            [m.id_number.value for m in survey.members if m.id_number])))}
    moving = {move.id_number: move.from_household for move in decision.moves_in}
    sources = _release_heads(session, [current[i] for i in moving if i in current])
    listed: dict[str, Person] = {}
    for member in survey.members:
        person = current.get(member.id_number.value)
        if person is None:
            person = Person(id_number=member.id_number.value,
                            created_by_submission_id=submission.id)
            session.add(person)
        elif person.household_id not in (None, household.id) and \
                person.id_number not in moving:
            raise AssertionError(f"{person.id_number} would leave household "
                                 f"{person.household_id} without a resolution")
        person.name, person.relation = member.name, member.relation
        person.sex = member.id_number.sex.value
        person.birth_date = member.id_number.birth_date
        person.household_id = household.id
        person.deceased = member.deceased
        person.death_date = member.values.get("death_date")
        person.disability_card = (member.id_number.card_number
                                  if member.id_number.disability_category else None)
        person.updated_by_submission_id = submission.id
        listed[member.id_number.value] = person
    leaving = session.scalars(select(Person).where(
        Person.id_number.in_(decision.leaving))).all() if decision.leaving else []
    for person in leaving:  # a reviewer said they left: kept in the registry, detached
        person.household_id = None
        person.updated_by_submission_id = submission.id
    session.flush()
    household.head_person_id = listed[survey.head.id_number.value].id
    version = _survey_version(session, household, submission, survey, form_id, created)
    household.latest_survey_id = version.id
    _recount(session, sources)
    session.flush()
    record(session, "household.created" if created else "household.updated", "household",
           household.id, None, submission_id=submission.id, survey=version.number,
           members=len(listed))
    for id_number, source in moving.items():
        note = notes.get((ConflictKind.MULTIPLE_HOUSEHOLDS.value, id_number)) or notes.get(
            (ConflictKind.ALREADY_REGISTERED.value, id_number), "")
        record(session, "person.moved", "person", listed[id_number].id, None,
               id_number=id_number, from_household=source, to_household=household.id,
               submission_id=submission.id, reason=note or None)
    for person in leaving:
        record(session, "person.left", "person", person.id, None, id_number=person.id_number,
               from_household=household.id, submission_id=submission.id,
               reason=notes.get((ConflictKind.MEMBERS_LEFT.value, person.id_number)) or None)
    attach_declared_household(session, household.id, listed)
    return household


def _release_heads(session: Session, movers: list[Person]) -> list[Household]:
    """The households people move out of; a household whose head moves out has no head until
    it is surveyed again (its head is whoever its next roster names)."""
    sources = list(session.scalars(select(Household).where(
        Household.id.in_({p.household_id for p in movers})))) if movers else []
    heads = {p.id for p in movers}
    for source in sources:
        if source.head_person_id in heads:
            source.head_person_id = None
    if sources:
        session.flush()
    return sources


def _recount(session: Session, households: list[Household]) -> None:
    """A household people moved out of: its size is its living members now."""
    for household in households:
        household.size = session.scalar(select(func.count()).select_from(Person).where(
            Person.household_id == household.id, Person.deceased.is_(False)))
        household.updated_at = func.now()


def _new_household_id(session: Session, entity_id: str | None) -> str:
    """The phone's offline entity id becomes the household's id, so its list stays valid."""
    if entity_id:
        try:
            candidate = str(uuid.UUID(entity_id.removeprefix("uuid:")))
        except ValueError:
            candidate = None
        if candidate and session.get(Household, candidate) is None:
            return candidate
    return str(uuid.uuid4())


def _area(survey: Survey) -> str:
    for name in ("addr_group", "addr_village", "addr_township", "addr_county"):
        value = survey.household.get(name)
        if value:
            return str(value)
    return ""


def _survey_version(session: Session, household: Household, submission: Submission,
                    survey: Survey, form_id: str, first: bool) -> SurveyVersion:
    number = 1 if first else (session.scalar(select(func.max(SurveyVersion.number)).where(
        SurveyVersion.household_id == household.id)) or 0) + 1
    derived = survey.derived
    version = SurveyVersion(
        household_id=household.id, number=number, submission_id=submission.id,
        form_id=form_id, visit_date=survey.visit_date,
        household_values={k: _plain(v) for k, v in survey.household.items()},
        member_values=[{k: _plain(v) for k, v in m.values.items()} for m in survey.members],
        size=survey.size, a26_member_uninsured=survey.a26_member_uninsured,
        a33_net_income=derived.a33_net_income if derived else None,
        a34_net_income_per_capita=_cents(derived.a34_net_income_per_capita) if derived else None,
        a37_income_reference=derived.a37_income_reference if derived else None,
        a38_income_reference_per_capita=(_cents(derived.a38_income_reference_per_capita)
                                         if derived else None),
        proposed_type=(survey.proposal.monitoring_type.value
                       if survey.proposal and survey.proposal.monitoring_type else None),
        phone_differs={k: list(v) for k, v in survey.phone_differs.items()},
        warnings=[asdict(p) | {"severity": p.severity.value} for p in survey.warnings],
    )
    session.add(version)
    session.flush()
    return version


def _cents(value):
    return value.quantize(CENT)


def _plain(value) -> object:
    if hasattr(value, "card_number"):
        return value.card_number
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _flag_likely_duplicates(session: Session, submission: Submission, survey: Survey) -> None:
    """Flag each member against people of the same name and birth date (index-backed; one
    query for the whole roster)."""
    members = {(m.name, m.id_number.birth_date): PersonKey(m.id_number.value, m.name)
               for m in survey.members if m.id_number is not None}
    if not members:
        return
    candidates = session.execute(select(Person.id_number, Person.name, Person.birth_date).where(
        tuple_(Person.name, Person.birth_date).in_(list(members)))).all()
    for other in candidates:
        me = members[(other.name, other.birth_date)]
        if other.id_number != me.id_number and likely_same(
                me, PersonKey(other.id_number, other.name)):
            a, b = pair(me.id_number, other.id_number)
            insert_ignoring_duplicates(session, DuplicateFlag, id_number_a=a, id_number_b=b,
                                       submission_id=submission.id, status="open")

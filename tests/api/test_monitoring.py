"""Dynamic management over real HTTP (issue 6, SPEC §6 "Dynamic management"): quarterly
assistance-effect evaluations, half-yearly sweeps with their ledgers, what is due or overdue,
and the per-province step deadlines on the case API (configurable, empty by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from server.accounts.models import User
from server.audit.models import AuditEntry
from server.clock import CHINA, today
from server.domain.deadlines import StepDeadline
from server.domain.monitoring import half_year_of, quarter_of
from server.domain.pipeline import Action, Procedure, Step
from server.domain.roles import Role
from server.domain.workdays import add_workdays, workdays_between
from server.figures.services import set_step_deadline
from server.households.models import Household, Person
from server.pipeline.models import Case
from server.pipeline.services import act, assign_contact, open_case
from tests.api.test_api import api
from tests.integration.conftest import user
from tests.support.cases import signed
from tests.support.collect import CollectClient, form_instance, png_bytes
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS, address, id_number
from tests.support.seed import COUNTY, OTHER_TOWNSHIP, PASSWORD_HASH, VILLAGE

TEAM = ("<team><team_signature>t1.png</team_signature></team>"
        "<team><team_signature>t2.png</team_signature></team>")
OTHER_HEAD = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700305", 51)}


def post_household(live_server, seeded, db, members) -> str:
    """A household surveyed on the phone with a verification team of two who signed."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    xml = form_instance("household", seeded.form_versions["household"],
                        {**SURVEY_FIELDS, **address(VILLAGE)}, members)
    xml = xml.replace(b"<meta>", TEAM.encode() + b"<meta>")
    response = client.submit(xml, {"t1.png": png_bytes(), "t2.png": png_bytes()})
    assert response.status_code == 201, response.text
    db.commit()  # end the session's transaction: see what the server wrote since
    return db.scalar(select(Person.household_id)
                     .where(Person.id_number == members[0]["a7_id_number"]))


def identify(db, household_id: str) -> Case:
    """The identification procedure, every step by its role, up to the county's approval."""
    helper, village, township, county = (user(db, n) for n in
                                         ("helper", "village", "township", "county"))
    area = db.get(Household, household_id).area_code
    case = open_case(db, Procedure.IDENTIFICATION, area, helper, household_id, origin="02")
    day = today()
    for who, on, opinion in ((helper, day, "户主申请并签字"), (helper, day, "核实小组入户核实"),
                             (village, day, "民主评议通过"),
                             (village, day + timedelta(days=8), "公示无异议"),
                             (township, day + timedelta(days=8), "审核通过")):
        # with the signatures each step's document needs (附件1, 附件3), as the signer
        act(db, case.id, Action.APPROVE, who, on, opinion, signed(case.procedure, case.step))
    assign_contact(db, household_id, county, "刘强", "洪市镇人民政府", "副镇长")
    act(db, case.id, Action.APPROVE, county, day + timedelta(days=8), "比对审定")
    db.commit()
    assert case.status == "done"
    return case


def add_user(db, username: str, role: Role, area: str) -> None:
    db.commit()  # a fresh transaction: SQLite cannot write from a stale read snapshot
    db.add(User(username=username, full_name=f"测试{username}", role=role, area_code=area,
                password_hash=PASSWORD_HASH))
    db.commit()


def at_midnight(day) -> datetime:
    return datetime.combine(day, time(), tzinfo=CHINA).astimezone(UTC)


@pytest.fixture
def monitored(live_server, seeded, db) -> str:
    household = post_household(live_server, seeded, db, [HEAD, SPOUSE, CHILD])
    identify(db, household)
    return household


@pytest.fixture
def unmonitored(live_server, seeded, db) -> str:
    return post_household(live_server, seeded, db, [OTHER_HEAD])


def audited(db, action: str) -> list[dict]:
    db.commit()
    return db.scalars(select(AuditEntry.details).where(AuditEntry.action == action)).all()


# --- evaluations ------------------------------------------------------------------------------


def test_village_and_township_users_record_evaluations_of_their_area(live_server, db,
                                                                     monitored):
    """SPEC §6: "每季度至少集中开展一次帮扶效果评估", by the township and village (镇村两级)."""
    add_user(db, "village_other", Role.VILLAGE, OTHER_TOWNSHIP)
    body = {"household_id": monitored, "evaluated_on": today().isoformat(),
            "evaluator": "王芳（驻村工作队）", "result": "产业帮扶到位，收入稳定"}
    answers = {name: api(live_server, name).post(
        f"{live_server}/api/v1/monitoring/evaluations", json=body, timeout=10)
        for name in ("village", "township", "helper", "county", "village_other")}

    assert answers["village"].status_code == 201, answers["village"].text
    assert answers["village"].json()["quarter"] == quarter_of(today()).label
    assert answers["township"].status_code == 201
    assert answers["helper"].status_code == 403
    assert answers["helper"].json()["code"] == "FORBIDDEN_ROLE"
    assert answers["county"].json()["code"] == "FORBIDDEN_ROLE"
    assert answers["village_other"].status_code == 404
    recorded = audited(db, "evaluation.recorded")
    assert [d["evaluator"] for d in recorded] == ["王芳（驻村工作队）"] * 2
    village = api(live_server, "village")
    listed = village.get(f"{village.base}/monitoring/evaluations",
                         params={"household_id": monitored}, timeout=10).json()
    assert len(listed) == 2 and listed[0]["result"] == "产业帮扶到位，收入稳定"
    other = api(live_server, "helper_other")
    assert other.get(f"{other.base}/monitoring/evaluations", timeout=10).json() == []


def test_only_monitoring_objects_are_evaluated_and_not_in_the_future(live_server, monitored,
                                                                     unmonitored):
    village = api(live_server, "village")
    url = f"{village.base}/monitoring/evaluations"
    base = {"evaluator": "王芳", "result": "帮扶措施已落实"}

    not_monitored = village.post(url, json={**base, "household_id": unmonitored,
                                            "evaluated_on": today().isoformat()}, timeout=10)
    future = village.post(url, json={**base, "household_id": monitored, "evaluated_on":
                                     (today() + timedelta(days=1)).isoformat()}, timeout=10)
    before = village.post(url, json={**base, "household_id": monitored, "evaluated_on":
                                     (today() - timedelta(days=1)).isoformat()}, timeout=10)
    blank = village.post(url, json={**base, "result": "", "household_id": monitored,
                                    "evaluated_on": today().isoformat()}, timeout=10)

    assert not_monitored.status_code == 409
    assert not_monitored.json()["code"] == "HOUSEHOLD_NOT_MONITORED"
    assert future.status_code == 400 and future.json()["code"] == "DATE_IN_FUTURE"
    # identified today: the day before, the household was not yet a monitoring object
    assert before.json()["code"] == "HOUSEHOLD_NOT_MONITORED"
    assert blank.status_code == 422


def test_the_quarter_shows_due_then_done_and_a_missed_quarter_overdue(live_server, db,
                                                                      monitored, unmonitored):
    """Due while the quarter runs, done with an evaluation dated in it, overdue once it ended."""
    this = quarter_of(today())
    previous = quarter_of(this.start - timedelta(days=1))
    db.commit()
    db.execute(update(Case).where(Case.household_id == monitored)
               .values(closed_at=at_midnight(previous.start - timedelta(days=1))))
    db.commit()
    village = api(live_server, "village")
    url = f"{village.base}/monitoring/evaluation-status"

    def status(**params):
        return [(r["household_id"], r["quarter"], r["status"])
                for r in village.get(url, params=params, timeout=10).json()]

    assert status() == [(monitored, this.label, "due")]
    assert status(quarter=previous.label) == [(monitored, previous.label, "overdue")]
    assert status(quarter=previous.label, status="due") == []
    village.post(f"{village.base}/monitoring/evaluations", json={
        "household_id": monitored, "evaluated_on": today().isoformat(), "evaluator": "王芳",
        "result": "已评估"}, timeout=10).raise_for_status()
    assert status() == [(monitored, this.label, "done")]
    assert status(status="due") == [] and len(status(status="done")) == 1
    assert status(quarter=previous.label) == [(monitored, previous.label, "overdue")]
    row = village.get(url, timeout=10).json()[0]
    assert row["last_evaluated_on"] == today().isoformat()
    assert row["monitored_since"] == (previous.start - timedelta(days=1)).isoformat()
    other = api(live_server, "helper_other")
    assert other.get(f"{other.base}/monitoring/evaluation-status", timeout=10).json() == []
    future = quarter_of(this.end + timedelta(days=1))
    refused = village.get(url, params={"quarter": future.label}, timeout=10)
    assert refused.status_code == 400 and refused.json()["code"] == "PERIOD_NOT_STARTED"
    assert village.get(url, params={"quarter": "2026Q5"}, timeout=10).status_code == 422


def test_risk_elimination_ends_the_evaluations(live_server, db, monitored):
    """风险消除: the household is no longer a monitoring object and no longer due."""
    db.commit()
    db.add(Case(procedure="elimination", step="county_approval", status="done",
                area_code=db.get(Household, monitored).area_code, household_id=monitored,
                closed_at=datetime.now(UTC) + timedelta(seconds=1), decided_on=today()))
    db.commit()
    village = api(live_server, "village")

    listed = village.get(f"{village.base}/monitoring/evaluation-status", timeout=10).json()

    assert listed == []


# --- sweeps -----------------------------------------------------------------------------------


def test_the_county_opens_one_sweep_per_area_and_half_year(live_server, db):
    """Hengyang: 集中排查 "上下半年各 1 次", by county or township."""
    county, township = api(live_server, "county"), api(live_server, "township")
    url = f"{county.base}/monitoring/sweeps"
    half = half_year_of(today()).label

    opened = county.post(url, json={"area_code": COUNTY, "half_year": half}, timeout=10)
    again = county.post(url, json={"area_code": COUNTY, "half_year": half}, timeout=10)
    by_township = township.post(url, json={"area_code": VILLAGE[:9], "half_year": half},
                                timeout=10)
    a_village = county.post(url, json={"area_code": VILLAGE, "half_year": half}, timeout=10)
    elsewhere = county.post(url, json={"area_code": "430422", "half_year": half}, timeout=10)
    bad_half = county.post(url, json={"area_code": COUNTY, "half_year": "2026H3"}, timeout=10)

    assert opened.status_code == 201, opened.text
    assert opened.json()["half_year"] == half and opened.json()["status"] == "done"
    assert again.status_code == 409 and again.json()["code"] == "SWEEP_EXISTS"
    assert by_township.status_code == 403
    assert a_village.status_code == 400 and a_village.json()["code"] == "SWEEP_AREA_LEVEL"
    assert elsewhere.status_code == 404
    assert bad_half.status_code == 422
    assert audited(db, "sweep.opened") == [{"area_code": COUNTY, "period": half}]
    village = api(live_server, "village")  # the county's sweep covers the village
    assert [s["id"] for s in village.get(url, timeout=10).json()] == [opened.json()["id"]]
    other = api(live_server, "helper_other")
    assert len(other.get(url, timeout=10).json()) == 1  # same county: covered too


def test_one_sweep_per_household_and_half_year(live_server, db):
    """SPEC §6 (集中排查, Hengyang: one each half-year with one ledger): a township sweep inside
    the county's sweep of the same half-year, or a county sweep over a township that has one,
    is refused with the sweep that covers it; another half-year or another township is not."""
    county = api(live_server, "county")
    url = f"{county.base}/monitoring/sweeps"
    half = half_year_of(today())
    previous = half_year_of(half.start - timedelta(days=1))

    township_first = county.post(url, json={"area_code": VILLAGE[:9],
                                            "half_year": half.label}, timeout=10)
    county_over_it = county.post(url, json={"area_code": COUNTY, "half_year": half.label},
                                 timeout=10)
    other_township = county.post(url, json={"area_code": OTHER_TOWNSHIP,
                                            "half_year": half.label}, timeout=10)
    county_before = county.post(url, json={"area_code": COUNTY, "half_year": previous.label},
                                timeout=10)
    township_inside = county.post(url, json={"area_code": VILLAGE[:9],
                                             "half_year": previous.label}, timeout=10)

    assert township_first.status_code == 201, township_first.text
    assert county_over_it.status_code == 409
    assert county_over_it.json()["code"] == "SWEEP_OVERLAPS"
    assert county_over_it.json()["details"]["sweep_id"] == str(township_first.json()["id"])
    assert other_township.status_code == 201, other_township.text
    assert county_before.status_code == 201, county_before.text
    assert township_inside.status_code == 409
    assert township_inside.json()["code"] == "SWEEP_OVERLAPS"
    assert township_inside.json()["details"]["sweep_id"] == str(county_before.json()["id"])
    assert len(audited(db, "sweep.opened")) == 3


def test_no_sweep_for_a_half_year_that_has_not_started(live_server, db):
    """SPEC §6: a sweep checks the households of a half-year under way or past; the next
    half-year cannot be opened ahead."""
    county = api(live_server, "county")
    coming = half_year_of(half_year_of(today()).end + timedelta(days=1))

    response = county.post(f"{county.base}/monitoring/sweeps",
                           json={"area_code": COUNTY, "half_year": coming.label}, timeout=10)

    assert response.status_code == 400 and response.json()["code"] == "SWEEP_NOT_STARTED"
    assert audited(db, "sweep.opened") == []


def test_the_sweep_ledger_marks_households_checked(live_server, db, monitored, unmonitored):
    """Every household of the area is to be checked (全覆盖排查), each check a ledger row."""
    add_user(db, "village_other", Role.VILLAGE, OTHER_TOWNSHIP)
    county, village = api(live_server, "county"), api(live_server, "village")
    half = half_year_of(today())
    sweep = county.post(f"{county.base}/monitoring/sweeps",
                        json={"area_code": VILLAGE[:9], "half_year": half.label},
                        timeout=10).json()
    base = f"{village.base}/monitoring/sweeps/{sweep['id']}"
    row = {"household_id": monitored, "checked_on": today().isoformat(),
           "finding": "无新增风险，帮扶措施落实"}

    before = village.get(f"{base}/households", timeout=10).json()
    written = village.post(f"{base}/ledger", json=row, timeout=10)
    by_helper = api(live_server, "helper").post(f"{base}/ledger", json=row, timeout=10)
    outside = village.post(f"{base}/ledger", json={
        **row, "checked_on": (half.start - timedelta(days=1)).isoformat()}, timeout=10)
    other = api(live_server, "village_other").post(f"{base}/ledger", json=row, timeout=10)
    after = {r["household_id"]: r for r in
             village.get(f"{base}/households", timeout=10).json()}

    assert {r["household_id"]: r["status"] for r in before} == {monitored: "due",
                                                                unmonitored: "due"}
    assert written.status_code == 201, written.text
    assert by_helper.status_code == 403
    assert outside.status_code == 400 and outside.json()["code"] == "DATE_OUTSIDE_PERIOD"
    assert other.status_code == 404
    assert after[monitored]["status"] == "done" and after[unmonitored]["status"] == "due"
    assert after[monitored]["finding"] == "无新增风险，帮扶措施落实"
    assert [r["household_id"] for r in village.get(
        f"{base}/households", params={"status": "due"}, timeout=10).json()] == [unmonitored]
    ledger = village.get(f"{base}/ledger", timeout=10).json()
    assert [(r["household_id"], r["checked_on"]) for r in ledger] == [
        (monitored, today().isoformat())]
    summary = village.get(base, timeout=10).json()
    assert (summary["households"], summary["checked"], summary["status"]) == (2, 1, "due")
    assert audited(db, "sweep.checked")[0]["sweep"] == sweep["id"]


def test_a_past_half_year_without_a_check_is_overdue(live_server, db, unmonitored):
    previous = half_year_of(half_year_of(today()).start - timedelta(days=1))
    db.commit()
    db.execute(update(Household).values(created_at=at_midnight(previous.start)))
    db.commit()
    county = api(live_server, "county")
    sweep = county.post(f"{county.base}/monitoring/sweeps",
                        json={"area_code": COUNTY, "half_year": previous.label},
                        timeout=10).json()
    village = api(live_server, "village")
    base = f"{village.base}/monitoring/sweeps/{sweep['id']}"

    listed = village.get(f"{base}/households", timeout=10).json()
    late = village.post(f"{base}/ledger", json={"household_id": unmonitored,
                                                "checked_on": today().isoformat(),
                                                "finding": "补查"}, timeout=10)

    assert [(r["household_id"], r["status"]) for r in listed] == [(unmonitored, "overdue")]
    assert sweep["status"] == "overdue" and sweep["households"] == 1
    assert late.json()["code"] == "DATE_OUTSIDE_PERIOD"
    assert village.get(f"{base}/households", params={"status": "overdue"},
                       timeout=10).json()[0]["household_id"] == unmonitored


# --- deadlines --------------------------------------------------------------------------------


def backdate(db, case_id: int, days: int) -> datetime:
    moment = datetime.now(UTC) - timedelta(days=days)
    db.commit()
    db.execute(update(Case).where(Case.id == case_id)
               .values(opened_at=moment, step_entered_at=moment))
    db.commit()
    return moment


def test_cases_show_their_age_and_are_overdue_only_past_a_configured_deadline(
        live_server, db, monitored, unmonitored):
    """SPEC §6: deadlines are data, empty by default; ages in working days (调休 included)."""
    helper = api(live_server, "helper")
    opened = helper.post(f"{helper.base}/cases", json={
        "procedure": "identification", "household_id": unmonitored, "origin": "01"},
        timeout=10).json()
    old = backdate(db, opened["id"], 60).astimezone(CHINA).date()
    village = api(live_server, "village")  # the village proposes eliminations (SPEC §6)
    fresh = village.post(f"{village.base}/cases", json={
        "procedure": "elimination", "household_id": monitored}, timeout=10).json()
    url = f"{helper.base}/cases/{opened['id']}"

    unset = helper.get(url, timeout=10).json()
    db.commit()
    set_step_deadline(db, StepDeadline("43", Procedure.IDENTIFICATION, Step.APPLICATION, 2,
                                       "测试：自主申报2个工作日内核实"))
    set_step_deadline(db, StepDeadline("43", Procedure.IDENTIFICATION, None, 20, "测试"))
    db.commit()
    late = helper.get(url, timeout=10).json()
    overdue = helper.get(f"{helper.base}/cases", params={"overdue": "true"}, timeout=10)
    on_time = helper.get(f"{helper.base}/cases", params={"overdue": "false"}, timeout=10)

    age = workdays_between(old, today())
    assert unset["age_in_step_workdays"] == age and unset["step_deadline"] is None
    assert unset["overdue"] is False and unset["case_deadline"] is None
    assert fresh["age_in_step_workdays"] == 0 and fresh["overdue"] is False
    assert late["step_deadline"] == add_workdays(old, 2).isoformat()
    assert late["case_deadline"] == add_workdays(old, 20).isoformat()
    assert late["step_overdue"] and late["case_overdue"] and late["overdue"]
    assert late["age_workdays"] == age > 20
    assert [c["id"] for c in overdue.json()] == [opened["id"]]
    ids = [c["id"] for c in on_time.json()]
    assert fresh["id"] in ids and opened["id"] not in ids
    assert opened["id"] not in [c["id"] for c in helper.get(
        f"{helper.base}/cases", params={"overdue": "true", "procedure": "elimination"},
        timeout=10).json()]


def test_the_overdue_filter_matches_the_flag_at_the_boundary(live_server, db, unmonitored):
    """A case is overdue from the first working day after its deadline: the SQL filter and
    the flag agree on either side of it."""
    db.commit()
    set_step_deadline(db, StepDeadline("43", Procedure.IDENTIFICATION, Step.APPLICATION, 3,
                                       "测试"))
    db.commit()
    helper = api(live_server, "helper")
    case = helper.post(f"{helper.base}/cases", json={
        "procedure": "identification", "household_id": unmonitored}, timeout=10).json()
    for days in range(0, 12):
        backdate(db, case["id"], days)
        flag = helper.get(f"{helper.base}/cases/{case['id']}", timeout=10).json()["overdue"]
        listed = [c["id"] for c in helper.get(f"{helper.base}/cases",
                                              params={"overdue": "true"}, timeout=10).json()]
        assert flag == (case["id"] in listed), days


def test_a_deadline_reaching_an_unpublished_year_skips_its_holidays_and_says_so(
        live_server, db, unmonitored):
    """SPEC §6 (step deadlines in working days): a step entered on Friday 4 Dec 2026 with a
    20-working-day limit is due Monday 4 Jan 2027 (元旦 is a statutory holiday by its rule, the
    package's data ending with 2026); the case says the count is an estimate (2027's 调休 is
    not published yet)."""
    db.commit()
    set_step_deadline(db, StepDeadline("43", Procedure.IDENTIFICATION, Step.APPLICATION, 20,
                                       "测试"))
    db.commit()
    helper = api(live_server, "helper")
    case = helper.post(f"{helper.base}/cases", json={
        "procedure": "identification", "household_id": unmonitored}, timeout=10).json()
    entered = at_midnight(date(2026, 12, 4))
    db.execute(update(Case).where(Case.id == case["id"])
               .values(opened_at=entered, step_entered_at=entered))
    db.commit()

    shown = helper.get(f"{helper.base}/cases/{case['id']}", timeout=10).json()

    assert shown["step_deadline"] == "2027-01-04"
    assert shown["workdays_estimated"] is True and "2027" in shown["workdays_note"]


def test_deadlines_are_set_by_an_admin_of_the_province(live_server, db):
    add_user(db, "admin", Role.ADMIN, COUNTY)
    admin, county = api(live_server, "admin"), api(live_server, "county")
    url = f"{admin.base}/monitoring/deadlines"
    body = {"procedure": "identification", "step": "application", "workdays": 2,
            "document": "县级规定"}

    assert county.get(url, timeout=10).json() == []  # SPEC §6: empty by default
    refused = county.put(url, json=body, timeout=10)
    saved = admin.put(url, json=body, timeout=10)
    wrong_step = admin.put(url, json={**body, "procedure": "elimination"}, timeout=10)
    wrong_province = admin.put(url, json={**body, "province": "44"}, timeout=10)
    listed = county.get(url, timeout=10).json()
    cleared = admin.put(url, json={**body, "workdays": None}, timeout=10)

    assert refused.status_code == 403
    assert saved.status_code == 200 and saved.json()["province"] == "43"
    assert wrong_step.status_code == 400
    assert wrong_step.json()["code"] == "DEADLINE_STEP_UNKNOWN"
    assert wrong_province.status_code == 400
    assert wrong_province.json()["code"] == "DEADLINE_OTHER_PROVINCE"
    assert listed == [{"province": "43", "procedure": "identification", "step": "application",
                       "workdays": 2, "document": "县级规定"}]
    assert cleared.status_code == 200 and county.get(url, timeout=10).json() == []
    assert [d["new"] for d in audited(db, "deadline.set")] == [2]
    assert audited(db, "deadline.cleared")[0]["old"] == 2

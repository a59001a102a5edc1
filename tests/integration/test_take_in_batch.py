"""The set-based take-in of a batch (issue 16) leaves exactly what taking each submission in on
its own leaves: the same households, people, survey versions, end states and problems,
duplicate flags, conflicts held and audit entries.

Hypothesis draws sequences of household surveys over a small world of people and offline
entity ids, so that they collide the ways phones do — the same person in two rosters, a
resurvey of a household the batch itself created, a twin one digit apart, a death, an invalid
form, a member left out, a household outside the helper's area — and each sequence is taken in
both ways on the same registry, each inside a savepoint rolled back after it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from server.accounts.models import User
from server.audit.models import AuditEntry
from server.dedup.models import Conflict, DuplicateFlag
from server.domain.idnumber import check_character
from server.forms.models import FormVersion
from server.households.models import Household, Person, SurveyVersion
from server.intake.dispatch import take_in_many, take_in_one
from server.submissions.models import Submission
from tests.support.collect import form_instance
from tests.support.households import SURVEY_FIELDS, address, id_number
from tests.support.seed import OTHER_TOWNSHIP, VILLAGE

pytestmark = pytest.mark.rolled_back

TODAY = date(2026, 11, 24)


def _twin(of: str) -> str:
    """An ID one digit apart from ``of`` (same birth date): a likely duplicate."""
    body = of[:16] + str((int(of[16]) + 2) % 10)
    return body + check_character(body)


_BIRTHS = [f"{1950 + 3 * i}0{1 + i % 9}1{i % 10}" for i in range(18)]
_IDS = [id_number("430421", birth, 11 + 10 * i) for i, birth in enumerate(_BIRTHS)]
_NAMES = "张三 李四 张小 王五 赵六 钱七 孙八 周九 吴十 郑一 冯二 陈三 褚四 卫五 蒋六 沈七 韩八 杨九"
# name, ID: eighteen people, and a twin of the first (same name and birth date, one digit apart)
PEOPLE = [*zip(_NAMES.split(), _IDS, strict=True), ("张三", None)]
PEOPLE[-1] = ("张三", _twin(_IDS[0]))
ENTITIES = [str(uuid.UUID(int=i + 1)) for i in range(4)]


def member(index: int, relation: str, deceased: bool, name: str | None = None
           ) -> dict[str, str]:
    """Person ``index`` of PEOPLE on a roster (``name``: under another name, as a correction
    would write it)."""
    default, id_no = PEOPLE[index]
    name = name or default
    age = 2021 - int(id_no[6:10])  # at the visit, give or take a year
    values = {"a5_name": name, "a7_id_number": id_no, "a8_relation": relation,
              "a14_labour_skill": "01" if 17 <= age <= 59 else "04",  # 普通 / 无劳动力
              "a17_basic_medical_insurance": "01"}
    if deceased:
        values |= {"deceased": "01", "death_date": "2021-03-01"}
    return values


@st.composite
def surveys(draw):
    roster = draw(st.lists(st.integers(0, len(PEOPLE) - 1), min_size=1, max_size=3,
                          unique=draw(st.integers(0, 9)) > 0))  # now and then a person twice
    dies = draw(st.booleans()) and len(roster) > 1
    # the first person is now and then written 张叁 (a correction of 张三): a rename that makes
    # or unmakes a likely duplicate of the twin
    members = [member(p, "01" if i == 0 else "03", dies and i == len(roster) - 1,
                      draw(st.sampled_from(["张三", "张叁"])) if p == 0 else None)
               for i, p in enumerate(roster)]
    entity = draw(st.sampled_from([None, None, None, *ENTITIES]))
    household = {**SURVEY_FIELDS, **address(VILLAGE), "phone": "13812345678"}
    if entity and draw(st.booleans()):
        household |= {"resurvey": "01", "household": entity}
    if draw(st.integers(0, 9)) == 0:
        household.pop("a28_wages")  # invalid: a required income left blank
    if draw(st.integers(0, 14)) == 0:
        household |= address(OTHER_TOWNSHIP + "001")  # outside the helper's area
    return household, members, entity


def stored(session, helper_id: int, version_id: int, version: str, survey) -> int:
    household, members, entity = survey
    xml = form_instance("household", version, household, members, None, entity).decode()
    submission = Submission(instance_id=f"uuid:{uuid.uuid4()}", form_version_id=version_id,
                            submitter_id=helper_id, xml=xml,
                            xml_sha256=hashlib.sha256(xml.encode()).hexdigest(),
                            complete=True, state="received")
    session.add(submission)
    session.flush()
    return submission.id


def registry(session, since_audit: int) -> dict[str, object]:
    """Everything a take-in writes, with the keys that depend on the order of inserts (person
    and household ids made up) replaced by what they stand for."""
    households = {h.id: h.created_by_submission_id or h.id
                  for h in session.scalars(select(Household))}
    people = {p.id: p.id_number for p in session.scalars(select(Person))}
    versions = {v.id: (households[v.household_id], v.number)
                for v in session.scalars(select(SurveyVersion))}

    def key(value):
        return households.get(value, value)

    return {
        "households": sorted(
            (key(h.id), h.area_code, h.phone, h.size, h.monitoring_type, h.numbered_risks,
             people.get(h.head_person_id), versions.get(h.latest_survey_id),
             h.updated_by_submission_id)
            for h in session.scalars(select(Household))),
        "people": sorted(
            (p.id_number, p.name, p.sex, str(p.birth_date), key(p.household_id), p.relation,
             p.deceased, str(p.death_date), p.disability_card, p.created_by_submission_id,
             p.updated_by_submission_id) for p in session.scalars(select(Person))),
        "surveys": sorted(
            (key(v.household_id), v.number, v.submission_id, v.form_id, str(v.visit_date),
             repr(v.household_values), repr(v.member_values), v.size, str(v.a33_net_income),
             str(v.a34_net_income_per_capita), str(v.a37_income_reference),
             str(v.a38_income_reference_per_capita), v.a26_member_uninsured, v.proposed_type,
             repr(v.phone_differs), repr(v.warnings))
            for v in session.scalars(select(SurveyVersion))),
        "submissions": sorted(
            (s.id, s.state, repr(s.problems), key(s.household_id))
            for s in session.scalars(select(Submission))),
        "flags": sorted((f.id_number_a, f.id_number_b, f.submission_id, f.status)
                        for f in session.scalars(select(DuplicateFlag))),
        "conflicts": sorted(
            (c.submission_id, c.kind, c.id_number, repr(c.member_indexes),
             repr(sorted(key(h) for h in c.households)), c.area_code, c.status)
            for c in session.scalars(select(Conflict))),
        "audit": sorted(
            (a.action, a.object_type,
             people.get(int(a.object_id)) if a.object_type == "person" else key(a.object_id),
             repr(sorted((k, key(v) if isinstance(v, str) else v)
                         for k, v in a.details.items())))
            for a in session.scalars(select(AuditEntry).where(AuditEntry.id > since_audit))),
    }


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(before=st.lists(surveys(), max_size=3), batch=st.lists(surveys(), min_size=3,
                                                              max_size=10))
def test_a_batch_leaves_what_one_at_a_time_leaves(session, seeded, before, batch):
    expected, actual = both_ways(session, seeded, before, batch)
    assert actual == expected


def test_a_large_batch_of_everyday_surveys_leaves_what_one_at_a_time_leaves(session, seeded):
    """Forty surveys, most of them new households and resurveys of the registry's, a few that
    touch one another (a resurvey of a household the batch creates, twins): mostly one run."""
    before = [({**SURVEY_FIELDS, **address(VILLAGE)}, [member(i, "01", False)], entity)
              for i, entity in zip((1, 2, 3), ENTITIES, strict=False)]
    batch = []
    for n in range(40):
        roster = [{"a5_name": f"户主{n}", "a7_id_number": id_number(
            "430421", "19700101", 300 + n), "a8_relation": "01",
            "a14_labour_skill": "01", "a17_basic_medical_insurance": "01"}]
        batch.append(({**SURVEY_FIELDS, **address(VILLAGE)}, roster, None))
    batch[5] = ({**SURVEY_FIELDS, **address(VILLAGE), "resurvey": "01", "household": ENTITIES[0]},
                [member(1, "01", False), member(0, "03", False)], ENTITIES[0])
    batch[9] = ({**SURVEY_FIELDS, **address(VILLAGE)}, [member(len(PEOPLE) - 1, "01", False)],
                ENTITIES[3])
    batch[20] = ({**SURVEY_FIELDS, **address(VILLAGE), "resurvey": "01",
                  "household": ENTITIES[3]},
                 [member(len(PEOPLE) - 1, "01", False), member(4, "03", True)], ENTITIES[3])
    expected, actual = both_ways(session, seeded, before, batch)
    assert actual == expected
    assert [s[1:3] for s in actual["submissions"] if s[1] != "applied"] == []


def both_ways(session, seeded, before, batch):
    """The registry after ``batch`` taken in one at a time, and after it taken in together, on
    the registry ``before`` left; each inside a savepoint rolled back after it."""
    helper_id = session.scalar(select(User.id).where(User.username == "helper"))
    version = seeded.form_versions["household"]
    version_id = session.scalar(select(FormVersion.id).where(
        FormVersion.form_id == "household", FormVersion.version == version))
    outer = session.begin_nested()
    try:
        for survey in before:  # the registry as it was: taken in one at a time
            take_in_one(session, stored(session, helper_id, version_id, version, survey), TODAY)
        ids = [stored(session, helper_id, version_id, version, s) for s in batch]
        mark = session.scalar(select(func.max(AuditEntry.id))) or 0

        alone = session.begin_nested()
        for submission_id in ids:
            take_in_one(session, submission_id, TODAY)
        session.flush()
        expected = registry(session, mark)
        alone.rollback()
        session.expire_all()

        together = session.begin_nested()
        taken = take_in_many(session, ids, TODAY)
        session.flush()
        actual = registry(session, mark)
        together.rollback()
        session.expire_all()
    finally:
        outer.rollback()
    assert not taken.raised
    return expected, actual


def test_a_batch_of_new_households_is_written_in_a_few_statements(session, seeded):
    """The point of the batch: its statements do not grow with its households."""
    from sqlalchemy import event

    helper_id = session.scalar(select(User.id).where(User.username == "helper"))
    version = seeded.form_versions["household"]
    version_id = session.scalar(select(FormVersion.id).where(
        FormVersion.form_id == "household", FormVersion.version == version))
    counts = []
    for size in (5, 40):
        ids = []
        for n in range(size):
            roster = [{"a5_name": f"户主{n}", "a7_id_number": id_number(
                "430421", "19700101", 100 + len(counts) * 100 + n), "a8_relation": "01",
                "a14_labour_skill": "01", "a17_basic_medical_insurance": "01"}]
            ids.append(stored(session, helper_id, version_id, version,
                              ({**SURVEY_FIELDS, **address(VILLAGE)}, roster, None)))
        statements: list[str] = []

        def listen(_conn, _cursor, statement, *_args, _into=statements):
            _into.append(statement)

        connection = session.connection()
        event.listen(connection, "before_cursor_execute", listen)
        try:
            taken = take_in_many(session, ids, TODAY)
        finally:
            event.remove(connection, "before_cursor_execute", listen)
        assert set(taken.states.values()) == {"applied"}
        counts.append(len(statements))
    assert counts[1] <= counts[0] + 2, counts  # executemany batches may add a statement or two


def test_a_rename_later_in_the_batch_flags_as_one_at_a_time_would(session, seeded):
    """张叁 is registered; the batch registers 张三's twin (a digit apart, same birth date), then
    corrects 张叁 to 张三: one at a time, the twin's survey met nobody of its name and the
    correction flags the pair — so the flag is the correction's, not the twin's."""
    before = [({**SURVEY_FIELDS, **address(VILLAGE)}, [member(0, "01", False, "张叁")],
               ENTITIES[0])]
    batch = [({**SURVEY_FIELDS, **address(VILLAGE)}, [member(len(PEOPLE) - 1, "01", False)],
              None),
             ({**SURVEY_FIELDS, **address(VILLAGE), "resurvey": "01",
               "household": ENTITIES[0]}, [member(0, "01", False, "张三")], ENTITIES[0])]
    expected, actual = both_ways(session, seeded, before, batch)
    assert actual == expected
    assert len(actual["flags"]) == 1 and actual["flags"][0][2] == max(
        s[0] for s in actual["submissions"])


def test_a_survey_after_a_death_in_the_batch_reads_as_one_at_a_time(session, seeded):
    """The batch records 李四's death; a later survey of the household lists 李四 as deceased
    again and says 突发严重困难户. One at a time it knows the death is on record, so 李四 no
    longer counts: 10 000 yuan for one person is above the monitoring line (6 500) and the type
    is allowed. Read against the registry before the batch, 李四 would count, 5 000 a head is
    below the line, and the survey would be invalid (MONITORING_TYPE_SUDDEN_BELOW_LINE)."""
    household = {**SURVEY_FIELDS, **address(VILLAGE), "a28_wages": "0", "a29_business_income": "0",
                 "a31_transfer_income": "10000", "a32_business_expenses": "0"}
    before = [(household, [member(0, "01", False), member(1, "02", False)], ENTITIES[0])]
    resurvey = {**household, "resurvey": "01", "household": ENTITIES[0]}
    batch = [(resurvey, [member(0, "01", False), member(1, "02", True)], ENTITIES[0]),
             ({**resurvey, "a3_monitoring_type": "03"},
              [member(0, "01", False), member(1, "02", True)], ENTITIES[0])]
    expected, actual = both_ways(session, seeded, before, batch)
    assert actual == expected
    assert [s[1] for s in actual["submissions"][-2:]] == ["applied", "applied"]


def test_a_person_registered_after_the_snapshot_sends_the_batch_one_at_a_time(
        session, seeded, monkeypatch, caplog):
    """Another worker registers one of the batch's people between its read and its write: the
    set-based write (a COPY on PostgreSQL: ten rows) is refused by the unique ID number, rolled
    back to its savepoint, and the batch is taken in one at a time against the registry as it
    now is; nothing fails and nobody is written twice."""
    from server.intake import batch as batch_module

    helper_id = session.scalar(select(User.id).where(User.username == "helper"))
    version = seeded.form_versions["household"]
    version_id = session.scalar(select(FormVersion.id).where(
        FormVersion.form_id == "household", FormVersion.version == version))
    numbers = [id_number("430421", "19700101", 500 + n) for n in range(10)]
    ids = [stored(session, helper_id, version_id, version, (
        {**SURVEY_FIELDS, **address(VILLAGE)},
        [{"a5_name": f"户主{n}", "a7_id_number": number, "a8_relation": "01",
          "a14_labour_skill": "01", "a17_basic_medical_insurance": "01"}], None))
        for n, number in enumerate(numbers)]
    household = session.scalar(select(Household.id).limit(1)) or _a_household(session)
    real_read = batch_module.Snapshot.read.__func__

    def read_then_someone_registers(cls, snapshot_session, items):
        snapshot = real_read(cls, snapshot_session, items)
        snapshot_session.add(Person(id_number=numbers[3], name="户主3", sex="1",
                                    birth_date=date(1970, 1, 1), household_id=household))
        snapshot_session.flush()
        return snapshot

    monkeypatch.setattr(batch_module.Snapshot, "read", classmethod(read_then_someone_registers))
    with caplog.at_level("WARNING", logger="server.intake.dispatch"):
        taken = take_in_many(session, ids, TODAY)
    session.flush()

    assert "taken in one at a time" in caplog.text
    assert not taken.raised
    assert "failed" not in taken.states.values()
    assert [taken.states[i] for i in ids if i != ids[3]] == ["applied"] * 9
    assert session.scalar(select(func.count()).select_from(Person).where(
        Person.id_number.in_(numbers))) == 10


def _a_household(session) -> str:
    session.add(Household(id=str(uuid.uuid4()), area_code=VILLAGE))
    session.flush()
    return session.scalar(select(Household.id).limit(1))

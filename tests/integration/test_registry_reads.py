"""The read services the console's 农户, 审核 and 冲突 pages call (issue 13, pages 4–6), on both
databases: households found by a member's name or ID number, a household's photos and
measures, a survey's values with the server's figures, a submission's answers, the two sides of
a conflict with its audit entry — each inside the reader's area, NOT_FOUND outside it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from media.memory import MemoryMediaStore
from media.uploads import UploadedFile
from server.areas.queries import area_labels
from server.audit.models import AuditEntry
from server.dedup import services as dedup
from server.dedup.models import Conflict
from server.dedup.queries import conflict_detail, conflicts_query, flag_detail, flags_query
from server.domain.dedup import Resolution
from server.domain.fields import MEMBER_UNINSURED, NET_INCOME, SEX, WAGES
from server.errors import AppError
from server.households.models import Household
from server.households.queries import (
    download_household_file,
    household_detail,
    household_file,
    household_files,
    household_measures,
    households_query,
    survey_list,
    survey_values,
)
from server.intake import take_in
from server.submissions.queries import submission_values
from server.submissions.services import ingest_submission
from tests.integration.conftest import user
from tests.support.collect import form_instance, jpeg_bytes, png_bytes
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS, address, id_number
from tests.support.seed import VILLAGE

TODAY = date(2026, 11, 24)
OTHER_HEAD = {**HEAD, "a5_name": "王五", "a7_id_number": id_number("430421", "19700707", 71)}


@pytest.fixture
def store() -> MemoryMediaStore:
    return MemoryMediaStore()


def submit(session, store, seeded, members, files=None, resurveys=None, **fields):
    helper = user(session, "helper")
    household = {**SURVEY_FIELDS, **address(VILLAGE), "phone": "13812345678", **fields}
    if resurveys:
        household = {"resurvey": "01", "household": resurveys, **household}
    xml = form_instance("household", seeded.form_versions["household"], household, members,
                        entity_id=resurveys)
    uploads = [UploadedFile(name, io.BytesIO(content), "image/jpeg")
               for name, content in (files or {}).items()]
    result = ingest_submission(session, store, helper, xml, uploads)
    session.commit()
    take_in(session, result.submission_id, TODAY)
    session.commit()
    return result.submission_id


def household_id_of(session, submission_id) -> str:
    from server.submissions.models import Submission

    return session.get(Submission, submission_id).household_id


def test_households_are_found_by_a_members_name_or_id_number(session, store, seeded):
    """Issue 13 page 4: search by name, ID number and village; a member's full ID number finds
    the household for any role, only inside the reader's area."""
    first = household_id_of(session, submit(session, store, seeded, [HEAD, SPOUSE]))
    second = household_id_of(session, submit(session, store, seeded, [OTHER_HEAD, CHILD]))
    village, elsewhere = user(session, "village"), user(session, "helper_other")

    def found(reader, **filters):
        return [row[0].id for row in session.execute(households_query(reader, filters))]

    assert found(village, name="李四") == [first]
    assert found(village, name="张小") == [second]
    assert found(village, id_number=SPOUSE["a7_id_number"].lower()) == [first]
    assert sorted(found(village, area_code=VILLAGE)) == sorted([first, second])
    assert found(village, name="李") == []
    assert found(elsewhere, name="李四") == []


def test_a_households_photos_are_its_own_and_read_inside_the_area(session, store, seeded):
    """Issue 13 page 4: photos and signatures of the household's submissions; full size is a
    download of personal data, audited; another area's user finds nothing."""
    submission = submit(session, store, seeded, [HEAD, SPOUSE],
                        files={"house.jpg": jpeg_bytes(), "sig.png": png_bytes()},
                        photo_house="house.jpg", sig_applicant="sig.png")
    household = household_id_of(session, submission)
    helper, other = user(session, "helper"), user(session, "helper_other")

    files = household_files(session, helper, household)

    assert {(f.name, f.field, f.signature, f.image) for f in files} == {
        ("house.jpg", "photo_house", False, True), ("sig.png", "sig_applicant", True, True)}
    assert {f.label for f in files} == {"住房照片", "申请人签字"}
    one = household_file(session, helper, household, submission, "house.jpg")
    assert store.exists(one.media_sha256)
    download_household_file(session, helper, household, submission, "house.jpg")
    assert session.scalar(select(AuditEntry.action).where(
        AuditEntry.object_id == str(submission),
        AuditEntry.action == "submission.attachment_downloaded")) is not None
    for call in (lambda: household_files(session, other, household),
                 lambda: household_file(session, other, household, submission, "house.jpg"),
                 lambda: household_file(session, helper, household, submission, "nope.jpg"),
                 lambda: household_measures(session, other, household),
                 lambda: survey_list(session, other, household)):
        with pytest.raises(AppError) as caught:
            call()
        assert caught.value.code == "NOT_FOUND"


def test_a_surveys_values_carry_the_servers_figures(session, store, seeded):
    """SPEC §3: A6 from the ID number, A26 from every member's A17, A33… computed by the server
    — the values a page lays out are the server's, not the phone's."""
    first = household_id_of(session, submit(session, store, seeded, [HEAD, SPOUSE, CHILD]))
    insured = {**CHILD, "a17_basic_medical_insurance": "01"}
    submit(session, store, seeded, [HEAD, SPOUSE, insured], resurveys=first, a28_wages="20000")
    village = user(session, "village")

    detail = household_detail(session, village, first, TODAY)
    household, members = survey_values(detail.latest_survey)

    assert [s.number for s in survey_list(session, village, first)] == [1, 2]
    assert household[WAGES.name] == "20000"
    assert household[NET_INCOME.name] == str(detail.latest_survey.a33_net_income)
    assert household[MEMBER_UNINSURED.name] == "02"  # the child is insured now
    assert household["household_size"] == "3"
    assert [m[SEX.name] for m in members] == ["1", "2", "1"]


def test_the_two_sides_of_a_conflict_and_the_audit_entry_of_its_resolution(
        session, store, seeded):
    """SPEC §5: a person found in two households holds the submission; the reviewer sees the
    submission's roster beside the registered households, and after resolving, the audit
    entry. The household's conflicts and duplicate flags are found from its page."""
    head_household = household_id_of(session, submit(session, store, seeded, [HEAD, SPOUSE]))
    other_household = household_id_of(session, submit(session, store, seeded,
                                                      [OTHER_HEAD, CHILD]))
    submit(session, store, seeded, [HEAD, SPOUSE, CHILD], resurveys=head_household)
    village, county = user(session, "village"), user(session, "county")
    [(conflict, _state)] = session.execute(conflicts_query(village, {"status": "open"})).all()

    detail = conflict_detail(session, village, conflict.id, TODAY)

    assert [(p.name, p.involved) for p in detail.incoming] == [
        ("张三", False), ("李四", False), ("张小", True)]
    assert {h.id for h in detail.households} == {head_household, other_household}
    assert detail.submitter == "helper" and detail.history == []
    for household in (head_household, other_household):
        assert [c.id for c, _ in session.execute(
            conflicts_query(county, {"household_id": household}))] == [conflict.id]
    with pytest.raises(AppError):
        conflict_detail(session, user(session, "helper_other"), conflict.id, TODAY)

    dedup.resolve_conflict(session, conflict.id, Resolution.MOVED, village.id, "随母迁入")
    session.commit()
    [entry] = conflict_detail(session, village, conflict.id, TODAY).history
    assert (entry.username, entry.details["resolution"]) == ("village", "moved")
    assert session.get(Conflict, conflict.id).status == "resolved"


def test_a_likely_duplicate_shows_both_households(session, store, seeded):
    from tests.api.test_conflicts import TWIN

    first = household_id_of(session, submit(session, store, seeded, [HEAD, SPOUSE]))
    second = household_id_of(session, submit(session, store, seeded, [TWIN]))
    village = user(session, "village")
    [flag] = session.scalars(flags_query(village, {"household_id": second})).all()

    detail = flag_detail(session, village, flag.id, TODAY)

    assert {detail.household_a.id, detail.household_b.id} == {first, second}
    assert session.scalars(flags_query(village, {"household_id": first})).all() == [flag]
    dedup.judge_duplicate(session, flag.id, False, village)
    session.commit()
    [entry] = flag_detail(session, village, flag.id, TODAY).history
    assert entry.details["status"] == "not_same"


def test_a_submissions_answers_are_read_inside_the_area(session, store, seeded):
    submission = submit(session, store, seeded, [HEAD, SPOUSE], a28_wages="12,000")

    values = submission_values(session, user(session, "village"), submission)

    assert values.household[WAGES.name] == "12,000"
    assert [m["a5_name"] for m in values.members] == ["张三", "李四"]
    with pytest.raises(AppError):
        submission_values(session, user(session, "helper_other"), submission)


def test_area_labels_say_the_village_and_the_group(session):
    group = f"{VILLAGE}001"
    assert area_labels(session, [group, VILLAGE, "999999"]) == {
        group: "洪罗庙社区 第一村民小组", VILLAGE: "洪罗庙社区", "999999": "999999"}
    assert session.scalar(select(Household.id)) is None

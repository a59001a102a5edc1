"""A whole visit as a phone does it: download the form and its lists from the server, fill it
in ODK Web Forms' engine, send what the engine produces, and find it in the registry.

This is the proof that the form's calculations and the server's rules agree: the server
recomputes A6, A26, A33–A38 and the household size and keeps any difference it finds.
"""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from server.households.models import Household, SurveyVersion
from server.submissions.models import Submission
from tests.support.collect import CollectClient, parse_form_list, parse_manifest
from tests.support.engine import Job, fill
from tests.support.households import NO, changed_answers, valid_household
from tests.support.seed import VILLAGE


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 140, 60)).save(out, kind)
    return out.getvalue()


def answers() -> dict[str, str]:
    """The form tests' valid household, in the seeded village: the head works at home, the
    spouse has no basic medical insurance (A26 = 是), the one risk is 01."""
    return changed_answers(
        valid_household(VILLAGE),
        {"/data/members[1]/a15_work_area": "9", "/data/members[2]/a17_basic_medical_insurance": NO,
         "/data/a27_risk_types": "01"},
        drop=("/data/members[1]/a15_work_place", "/data/a27_other_text"),
    )


def test_a_household_visit_filled_in_the_engine_lands_in_the_registry(live_server, seeded, db):
    """Issues 3–5: Collect's path end to end, with the server's own form and attachments."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    form = next(f for f in parse_form_list(client.form_list()) if f["formID"] == "household")
    xform = client.get(form["downloadUrl"]).content
    attachments = {entry["filename"]: client.get(entry["downloadUrl"]).content
                   for entry in parse_manifest(client.get(form["manifestUrl"]))}
    media = {name: _image("JPEG") for name in ("hukou.jpg", "id.jpg", "house.jpg")}
    media |= {name: _image("PNG") for name in ("sig.png", "t1.png", "t2.png")}

    outcome = fill(Job("visit", xform, attachments, list(answers().items()), media,
                       submission=True))

    assert outcome.valid, outcome.violations()
    files = dict(outcome.submission)
    xml = files.pop("xml_submission_file")
    for computed in (b"<a34_net_income_per_capita>", b"<a26_member_uninsured>01<",
                     b"<household_size>3<"):
        assert computed in xml  # the phone's own values, for the server to compare
    response = client.submit(xml, files)
    assert response.status_code == 201, response.text
    submission = db.scalar(select(Submission))
    assert submission.complete and submission.state == "applied", submission.problems
    household = db.get(Household, submission.household_id)
    survey = db.get(SurveyVersion, household.latest_survey_id)
    assert household.size == 3 and survey.a26_member_uninsured
    assert survey.phone_differs == {}  # the phone's A33–A38, A26, size equal the server's
    assert str(survey.a33_net_income) == "16000.50"

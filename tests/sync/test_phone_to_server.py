"""A whole visit as a phone does it: download the form and its lists from the server, fill it
in ODK Web Forms' engine, send what the engine produces, and find it in the registry.

This is the proof that the form's calculations and the server's rules agree: the server
recomputes A6, A26, A33–A38 and the household size and keeps any difference it finds.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import make_engine
from server.households.models import Household, SurveyVersion
from server.submissions.models import Submission
from tests.forms.test_household_form import CHILD, HEAD, SPOUSE, member
from tests.support.collect import CollectClient, parse_form_list, parse_manifest
from tests.support.engine import Job, fill
from tests.support.seed import VILLAGE

YES, NO = "01", "02"


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 140, 60)).save(out, kind)
    return out.getvalue()


def answers() -> dict[str, str]:
    values = {
        "/data/resurvey": NO, "/data/visit_date": "2021-05-12",
        "/data/address/addr_county": VILLAGE[:6], "/data/address/addr_township": VILLAGE[:9],
        "/data/address/addr_village": VILLAGE, "/data/address/addr_group": f"{VILLAGE}001",
        "/data/phone": "13812345678", "/data/a1_resettlement_site": NO,
        "/data/a4_formerly_poor": YES,
    }
    values |= member(1, "张三", HEAD, "01", "01", a16_work_months="3.5")
    values |= member(2, "李四", SPOUSE, "02", "05", a17_basic_medical_insurance=NO)
    values |= member(3, "张小妹", CHILD, "04", "04", a12_schooling="03")
    values |= {
        "/data/members_check": "OK", "/data/a23_housing_unsafe": YES,
        "/data/a24_school_dropout": NO, "/data/a25_water_unsafe": NO,
        "/data/a27_risk_types": "01", "/data/severe_difficulty": NO,
        "/data/a28_wages": "12000", "/data/a29_business_income": "3000",
        "/data/a30_property_income": "0", "/data/a31_transfer_income": "1500.5",
        "/data/a32_business_expenses": "500", "/data/a35_insurance_claims": "1000",
        "/data/a36_compliant_out_of_pocket": "8000", "/data/a3_monitoring_type": "01",
        "/data/photo_hukou": "hukou.jpg", "/data/id_photos[1]/photo_id_card": "id.jpg",
        "/data/photo_house": "house.jpg", "/data/visit_location": "26.9 112.6 60 5",
        "/data/a55_contact_name": "王芳", "/data/a55_contact_phone": "0734-1234567",
        "/data/applicant_can_sign": YES, "/data/sig_applicant": "sig.png",
        "/data/team_count": "2",
        "/data/team[1]/team_member_name": "赵一", "/data/team[1]/team_member_role": "01",
        "/data/team[1]/team_signature": "t1.png",
        "/data/team[2]/team_member_name": "钱二", "/data/team[2]/team_member_role": "03",
        "/data/team[2]/team_signature": "t2.png",
    }
    return values


@pytest.fixture
def db(app_config):
    engine = make_engine(app_config["DATABASE_URL"])
    with Session(engine) as session:
        yield session
    engine.dispose()


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

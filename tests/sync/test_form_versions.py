"""A changed XLSForm is a new version; phones that still have the old one can submit it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from server.config import PROJECT_ROOT
from server.db import make_engine
from server.forms.build import build_xform
from server.forms.services import publish
from tests.support.collect import (
    CollectClient,
    household_instance,
    jpeg_bytes,
    parse_form_list,
    png_bytes,
)
from tests.support.xform import relabelled


def _edited_household_form() -> bytes:
    household = PROJECT_ROOT / "xlsforms" / "household.xlsx"
    return relabelled(household, "photo_house", "住房照片（正面）")


@pytest.fixture
def new_version(app_config) -> str:
    engine = make_engine(app_config["DATABASE_URL"])
    with Session(engine) as session, session.begin():
        published = publish(session, build_xform(_edited_household_form()))
    engine.dispose()
    assert published.new
    return published.version


def test_the_form_list_offers_the_new_version(live_server, seeded, new_version):
    client = CollectClient(live_server, seeded.tokens["helper"])

    form = next(f for f in parse_form_list(client.form_list()) if f["formID"] == "household")

    assert form["version"] == new_version != seeded.form_versions["household"]
    assert "住房照片（正面）" in client.get(form["downloadUrl"]).text


def test_the_old_version_still_accepts_submissions(live_server, seeded, new_version):
    """Issue 3: the old version still accepts submissions from phones that have it."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    files = {"house.jpg": jpeg_bytes(), "sig.png": png_bytes()}

    old = client.submit(household_instance(seeded.form_versions["household"]), files)
    new = client.submit(household_instance(new_version), files)

    assert (old.status_code, new.status_code) == (201, 201)


def test_publishing_the_same_form_again_changes_nothing(app_config, seeded):
    engine = make_engine(app_config["DATABASE_URL"])
    with Session(engine) as session, session.begin():
        again = publish(session, build_xform(PROJECT_ROOT / "xlsforms" / "household.xlsx"))
    engine.dispose()

    assert not again.new
    assert again.version == seeded.form_versions["household"]

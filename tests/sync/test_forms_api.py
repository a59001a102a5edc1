"""OpenRosa Form List API, form download and manifest, through a real HTTP server."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest

from tests.support.collect import CollectClient, parse_form_list, parse_manifest
from tests.support.seed import OTHER_TOWNSHIP, PASSWORD, VILLAGE


def test_form_list_offers_the_household_form_to_a_helper(live_server, seeded):
    """Issue 3: Collect lists the forms the helper may use, with version and md5 hash."""
    response = CollectClient(live_server, seeded.tokens["helper"]).form_list()

    assert response.status_code == 200
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["Content-Type"].startswith("text/xml")
    forms = {form["formID"]: form for form in parse_form_list(response)}
    household = forms["household"]
    assert household["version"] == seeded.form_versions["household"]
    assert household["name"] == "防止返贫监测对象信息采集表"
    assert household["hash"].startswith("md5:")
    assert household["manifestUrl"]  # the form reads areas.csv


FORMS = ["declaration", "elimination", "household", "measures"]


def _form(client: CollectClient, form_id: str) -> dict[str, str]:
    return next(f for f in parse_form_list(client.form_list()) if f["formID"] == form_id)


def test_the_helper_gets_all_four_forms(live_server, seeded):
    """Issue 4: the formList lists the four forms for a helper."""
    forms = parse_form_list(CollectClient(live_server, seeded.tokens["helper"]).form_list())

    assert sorted(f["formID"] for f in forms) == FORMS
    assert all(f["manifestUrl"] for f in forms)  # each reads generated attachments


@pytest.mark.parametrize("form_id", FORMS)
def test_downloaded_form_matches_the_listed_hash(live_server, seeded, form_id):
    """DESIGN: formList hash is md5: of the exact XForm bytes served."""
    client = CollectClient(live_server, seeded.tokens["helper"])
    form = _form(client, form_id)

    download = client.get(form["downloadUrl"])

    assert download.status_code == 200
    assert f"md5:{hashlib.md5(download.content).hexdigest()}" == form["hash"]
    assert f'id="{form_id}"'.encode() in download.content
    assert form["downloadUrl"].startswith(f"{live_server}/key/{client.token}/")


def test_roles_that_do_not_collect_get_an_empty_form_list(live_server, seeded):
    """SPEC §1: county staff do not fill forms on the phone."""
    response = CollectClient(live_server, auth=("county", PASSWORD)).form_list()

    assert response.status_code == 200
    assert parse_form_list(response) == []


def test_manifest_lists_the_generated_files_with_the_hash_of_what_is_served(live_server, seeded):
    """Issue 3/4/16: manifest media carry md5: hashes; the household list is an entity list.
    A plain media file's hash is its content's md5 (Collect compares it with the md5 of the
    file it holds); an entity list's names its version (Collect compares it with the hash it
    stored with the list, as ODK Central's): each is the download's ETag."""
    client = CollectClient(live_server, seeded.tokens["helper"])

    files = parse_manifest(client.get(_form(client, "household")["manifestUrl"]))

    assert [f["filename"] for f in files] == ["areas.csv", "figures.csv", "households.csv"]
    assert {f["filename"]: f["type"] for f in files}["households.csv"] == "entityList"
    for entry in files:
        media = client.get(entry["downloadUrl"])
        assert media.status_code == 200
        assert entry["hash"] == f"md5:{media.headers['ETag'].strip(chr(34))}"
        if entry["type"] != "entityList":
            assert entry["hash"] == f"md5:{hashlib.md5(media.content).hexdigest()}"


def _attachment(client: CollectClient, name: str, form_id: str = "household") -> bytes:
    files = parse_manifest(client.get(_form(client, form_id)["manifestUrl"]))
    url = next(f["downloadUrl"] for f in files if f["filename"] == name)
    return client.get(url).content


def _areas(client: CollectClient) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_attachment(client, "areas.csv").decode("utf-8"))))


def test_areas_csv_holds_only_the_helpers_part_of_the_tree(live_server, seeded):
    """SPEC §1: every user sees only what lies inside their area (plus the path down to it)."""
    rows = _areas(CollectClient(live_server, seeded.tokens["helper"]))

    codes = {row["name"] for row in rows}
    assert codes == {VILLAGE[:6], VILLAGE[:9], VILLAGE, f"{VILLAGE}001", f"{VILLAGE}002"}
    assert {row["level"] for row in rows} == {"county", "township", "village", "group"}
    group = next(row for row in rows if row["name"] == f"{VILLAGE}001")
    assert group["parent"] == VILLAGE and group["label"] == "第一村民小组"


def test_another_helper_gets_another_areas_csv(live_server, seeded):
    """The generated attachment depends on who asks, so its hash does too."""
    mine = _areas(CollectClient(live_server, seeded.tokens["helper"]))
    theirs = _areas(CollectClient(live_server, seeded.tokens["helper_other"]))

    assert {r["name"] for r in theirs if r["level"] == "township"} == {OTHER_TOWNSHIP}
    assert len([r for r in theirs if r["level"] == "village"]) > 1
    assert mine != theirs


def test_an_unknown_form_version_is_404(live_server, seeded):
    client = CollectClient(live_server, seeded.tokens["helper"])

    response = client.get(client.url("/forms/household/versions/000000000000/form.xml"))

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "FORM_VERSION_UNKNOWN"


def test_a_media_file_the_form_does_not_read_is_404(live_server, seeded):
    client = CollectClient(live_server, seeded.tokens["helper"])
    version = seeded.form_versions["household"]

    response = client.get(client.url(f"/forms/household/versions/{version}/media/secret.csv"))

    assert response.status_code == 404
    assert response.headers["X-Error-Code"] == "MEDIA_NOT_FOUND"


def test_generated_attachments_change_hash_when_their_content_changes(live_server, seeded,
                                                                      app_config):
    """Issue 4: areas, yearly figures and households change their md5 so Collect refetches."""
    from decimal import Decimal

    from sqlalchemy.orm import Session

    from server.areas.models import Area
    from server.areas.services import add_groups
    from server.db import make_engine
    from server.domain.figures import FigureKind, YearlyFigure
    from server.figures.services import set_figure
    from tests.support.seed import VILLAGE

    client = CollectClient(live_server, seeded.tokens["helper"])

    def hashes() -> dict[str, str]:
        files = parse_manifest(client.get(_form(client, "household")["manifestUrl"]))
        return {f["filename"]: f["hash"] for f in files}

    before = hashes()
    engine = make_engine(app_config["DATABASE_URL"])
    with Session(engine) as session, session.begin():
        add_groups(session, session.get(Area, VILLAGE),
                   ["第一村民小组", "第二村民小组", "第三村民小组"])
        set_figure(session, YearlyFigure("43", 2022, FigureKind.MONITORING_LINE, Decimal("6900"),
                                         "测试文件"))
    engine.dispose()
    after = hashes()

    assert after["areas.csv"] != before["areas.csv"]
    assert after["figures.csv"] != before["figures.csv"]
    assert after["households.csv"] == before["households.csv"]  # no household changed

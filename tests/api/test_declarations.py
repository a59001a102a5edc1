"""Self-declarations (农户自主申报, SPEC §2.4 and §6 step 1) over real HTTP: a declaration sent
from ODK Collect opens or joins an identification case of origin 01, or a pending case for a
family not yet registered that a later survey attaches to; what became of it is listed at
``/api/v1/declarations``, visible where the household (or the declared address) is — not
where the submitter is. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.db import utcnow
from server.declarations.services import attach_declared_household
from server.households.models import Declaration
from server.pipeline.models import Case
from tests.api.test_api import api
from tests.support.collect import CollectClient, form_instance, png_bytes
from tests.support.households import HEAD, SPOUSE, SURVEY_FIELDS, address, id_number
from tests.support.seed import VILLAGE

OTHER_VILLAGE = "430421201200"  # 岣嵝乡杉云村委会 (helper_other's township; no 村民小组 seeded)
NEIGHBOUR_VILLAGE = "430421107200"  # 洪市镇泰山村委会: same township as VILLAGE, another village
NEWCOMER_ID = id_number("430421", "19750505", 51)  # a family head not in the registry
SIGNATURE = png_bytes((90, 30))


# --- helpers -------------------------------------------------------------------------------


def declare(live_server, seeded, username: str, head_id: str, village: str = VILLAGE,
            head_name: str = "张三", group: bool = True) -> dict:
    """A declaration as ODK Collect sends it, signed (附件1), by ``username``; the stored
    declaration as the county sees it (full numbers)."""
    where = address(village) if group else {k: v for k, v in address(village).items()
                                            if k != "addr_group"}
    xml = form_instance("declaration", seeded.form_versions["declaration"], {
        "decl_date": "2021-05-12", "decl_channel": "01", "decl_on_behalf": "02",
        "decl_head_name": head_name, "decl_head_id_number": head_id, **where,
        "phone": "13812345678", "decl_household_size": "3", "decl_risks": "2 6",
        "decl_description": "户主患病住院，务工收入中断"})
    signed = (b"<commitment><applicant_can_sign>01</applicant_can_sign>"
              b"<sig_applicant>sig.png</sig_applicant></commitment><meta>")
    xml = xml.replace(b"<meta>", signed)  # as in the form: /data/commitment/sig_applicant
    response = CollectClient(live_server, seeded.tokens[username]).submit(
        xml, {"sig.png": SIGNATURE})
    assert response.status_code == 201, response.text
    county = api(live_server, "county")
    rows = county.get(f"{county.base}/declarations", params={"sort": "-id"}, timeout=10).json()
    assert rows, "the declaration was not taken in"
    return rows[0]


def survey(live_server, seeded, members, username="helper", village=VILLAGE,
           resurveys=None) -> str:
    """A household survey sent from the phone (``resurveys``: the form's resurvey of that
    registered household); the household's id."""
    fields = {**SURVEY_FIELDS, **address(village), "phone": "13812345678"}
    if resurveys:
        fields |= {"resurvey": "01", "household": resurveys}
    xml = form_instance("household", seeded.form_versions["household"], fields,
                        list(members), entity_id=resurveys)
    response = CollectClient(live_server, seeded.tokens[username]).submit(xml)
    assert response.status_code == 201, response.text
    county = api(live_server, "county")
    people = county.post(f"{county.base}/people/search",
                         json={"id_number": members[0]["a7_id_number"]}, timeout=10).json()
    assert people and people[0]["household_id"], "the survey was not taken in"
    return people[0]["household_id"]


def get(live_server, username: str, path: str, **params):
    client = api(live_server, username)
    return client.get(f"{client.base}{path}", params=params, timeout=10)


def case_of(live_server, case_id: int, username="county") -> dict:
    response = get(live_server, username, f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.json()


def open_identification_cases(db, household_id: str) -> list[int]:
    db.rollback()  # a fresh snapshot: see what the server committed
    return list(db.scalars(select(Case.id).where(
        Case.household_id == household_id, Case.procedure == "identification",
        Case.status == "open")))


def audited(db, declaration_id: int) -> list[str]:
    db.rollback()
    return list(db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "declaration", AuditEntry.object_id == str(declaration_id))
        .order_by(AuditEntry.id)))


def events(live_server, case_id: int) -> list[dict]:
    response = get(live_server, "county", f"/cases/{case_id}/events")
    assert response.status_code == 200, response.text
    return response.json()


# --- issue 11 point 15: a declaration starts the identification procedure ------------------


def test_a_declaration_for_a_registered_household_opens_an_identification_case_of_origin_01(
        live_server, seeded, db):
    """SPEC §2.4 / §6 step 1: a self-declaration starts an identification case, origin
    自主申报 (01), in the household's area — even sent by a helper of another township
    (a household "or anyone on its behalf")."""
    household = survey(live_server, seeded, [HEAD, SPOUSE])

    declaration = declare(live_server, seeded, "helper_other", HEAD["a7_id_number"])

    assert declaration["state"] == "case_opened"
    assert declaration["household_id"] == household
    case = case_of(live_server, declaration["case_id"])
    assert (case["procedure"], case["step"], case["status"], case["origin"]) == (
        "identification", "application", "open", "01")
    assert case["household_id"] == household and case["declaration_id"] == declaration["id"]
    assert case["area_code"] == f"{VILLAGE}001"
    opened = events(live_server, case["id"])[0]
    assert opened["action"] == "open"
    assert audited(db, declaration["id"]) == ["declaration.received", "declaration.case_opened"]


def test_a_declaration_joins_the_households_open_identification_case_never_a_second(
        live_server, seeded, db):
    """SPEC §6 step 1: one identification case per household — a declaration for a household
    whose identification is under way joins it, recorded in the case's log and the audit."""
    household = survey(live_server, seeded, [HEAD, SPOUSE])
    village = api(live_server, "village")
    opened = village.post(f"{village.base}/cases", json={
        "procedure": "identification", "household_id": household, "origin": "02"}, timeout=10)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]

    first = declare(live_server, seeded, "helper", HEAD["a7_id_number"])
    second = declare(live_server, seeded, "helper_other", SPOUSE["a7_id_number"])

    assert (first["state"], first["case_id"]) == ("joined", case_id)
    assert (second["state"], second["case_id"]) == ("joined", case_id)
    assert open_identification_cases(db, household) == [case_id]
    joins = [e for e in events(live_server, case_id) if e["action"] == "declaration"]
    assert len(joins) == 2 and all(e["to_step"] == "application" for e in joins)
    assert case_of(live_server, case_id)["origin"] == "02"  # the case keeps how it began
    assert audited(db, first["id"]) == ["declaration.received", "declaration.joined"]


def test_a_declaration_for_an_unregistered_family_opens_a_pending_case_in_the_declared_area(
        live_server, seeded, db):
    """SPEC §6 step 1 / §2.4: a family not in the registry still gets its application: a case
    on the declaration itself (no household) in the declared village — not the submitter's —
    that the village follows with a visit; a second declaration of the same head joins it."""
    declaration = declare(live_server, seeded, "helper", NEWCOMER_ID, OTHER_VILLAGE,
                          head_name="孙七", group=False)

    assert declaration["state"] == "pending_visit"
    assert declaration["household_id"] is None
    case = case_of(live_server, declaration["case_id"])
    assert case["household_id"] is None and case["declaration_id"] == declaration["id"]
    assert (case["area_code"], case["origin"], case["step"]) == (OTHER_VILLAGE, "01",
                                                                "application")
    # The declared area's helper finds it on the village's to-visit list; the submitter's
    # village does not own it.
    todo = get(live_server, "helper_other", "/declarations", state="pending_visit")
    assert [d["id"] for d in todo.json()] == [declaration["id"]]
    assert get(live_server, "helper_other", f"/cases/{case['id']}").status_code == 200
    assert get(live_server, "village", f"/cases/{case['id']}").status_code == 404

    again = declare(live_server, seeded, "helper_other", NEWCOMER_ID, OTHER_VILLAGE,
                    head_name="孙七", group=False)
    assert (again["state"], again["case_id"]) == ("joined", case["id"])
    db.rollback()
    assert db.scalar(select(Case.id).where(Case.declaration_id == again["id"])) is None


def test_a_survey_that_registers_the_declared_family_attaches_the_household_to_its_case(
        live_server, seeded, db):
    """SPEC §6 steps 1–2 and §5: the home verification registers the declared family (its head
    found by ID number); the pending case and the declaration get the household."""
    declaration = declare(live_server, seeded, "helper_other", HEAD["a7_id_number"])
    assert declaration["state"] == "pending_visit"

    household = survey(live_server, seeded, [HEAD, SPOUSE])

    after = get(live_server, "county", f"/declarations/{declaration['id']}").json()
    assert after["state"] == "household_attached"
    assert (after["household_id"], after["case_id"]) == (household, declaration["case_id"])
    case = case_of(live_server, declaration["case_id"])
    assert case["household_id"] == household and case["status"] == "open"
    assert [e["action"] for e in events(live_server, case["id"])] == ["open", "household"]
    assert audited(db, declaration["id"]) == [
        "declaration.received", "declaration.pending_visit", "declaration.household_attached"]
    submission = get(live_server, "county", f"/submissions/{declaration['submission_id']}")
    assert submission.json()["household_id"] == household


def test_attach_declared_household_gives_the_pending_case_the_household(
        live_server, seeded, db):
    """SPEC §6 step 1: ``attach_declared_household`` (called by the household take-in) links
    a pending declaration whose head is among the household's people, moves its case to the
    household's area, and leaves everything else alone; a second call changes nothing."""
    household = survey(live_server, seeded, [HEAD, SPOUSE], village=VILLAGE)
    declaration = declare(live_server, seeded, "helper", NEWCOMER_ID, NEIGHBOUR_VILLAGE,
                          head_name="孙七", group=False)
    assert declaration["state"] == "pending_visit"

    attached = attach_declared_household(db, household, [HEAD["a7_id_number"], NEWCOMER_ID])
    db.commit()

    assert [d.id for d in attached] == [declaration["id"]]
    stored = db.get(Declaration, declaration["id"])
    assert (stored.state, stored.household_id) == ("household_attached", household)
    case = db.get(Case, declaration["case_id"])
    assert (case.household_id, case.area_code) == (household, f"{VILLAGE}001")
    assert attach_declared_household(db, household, [NEWCOMER_ID]) == []


def test_a_pending_case_merges_into_the_households_open_case_when_the_family_is_registered(
        live_server, seeded, db):
    """SPEC §6: one identification case per household — if the newly registered head's
    household already has an open identification case, the pending case is closed into it."""
    household = survey(live_server, seeded, [HEAD, SPOUSE])
    village = api(live_server, "village")
    existing = village.post(f"{village.base}/cases", json={
        "procedure": "identification", "household_id": household, "origin": "02"},
        timeout=10).json()["id"]
    declaration = declare(live_server, seeded, "helper", NEWCOMER_ID, head_name="孙七")
    assert declaration["state"] == "pending_visit"

    newcomer = {**HEAD, "a5_name": "孙七", "a7_id_number": NEWCOMER_ID, "a8_relation": "05"}
    assert survey(live_server, seeded, [HEAD, SPOUSE, newcomer], resurveys=household) == household

    after = get(live_server, "county", f"/declarations/{declaration['id']}").json()
    assert (after["state"], after["case_id"], after["household_id"]) == (
        "household_attached", existing, household)
    pending = case_of(live_server, declaration["case_id"])
    assert pending["status"] == "rejected" and pending["household_id"] is None
    assert open_identification_cases(db, household) == [existing]
    assert events(live_server, declaration["case_id"])[-1]["action"] == "merged"


def test_a_declaration_for_a_monitoring_object_is_recorded_without_a_new_case(
        live_server, seeded, db):
    """SPEC §6: a household already identified (监测对象) is not identified again: the
    declaration is recorded, state ``monitored`` says why, no case is opened."""
    household = survey(live_server, seeded, [HEAD, SPOUSE])
    db.add(Case(procedure="identification", step="county_approval", status="done",
                area_code=f"{VILLAGE}001", household_id=household, origin="02",
                closed_at=utcnow() - timedelta(days=30)))
    db.commit()

    declaration = declare(live_server, seeded, "helper", HEAD["a7_id_number"])

    assert (declaration["state"], declaration["case_id"]) == ("monitored", None)
    assert open_identification_cases(db, household) == []
    assert audited(db, declaration["id"]) == ["declaration.received", "declaration.monitored"]


def test_a_declaration_with_an_address_outside_the_area_table_is_invalid(live_server, seeded,
                                                                        db):
    """SPEC §2.4 "where": the declared address must be an area of the table; otherwise the
    submission is kept invalid with a located problem (it used to stay unprocessed)."""
    xml = form_instance("declaration", seeded.form_versions["declaration"], {
        "decl_head_name": "张三", "decl_head_id_number": HEAD["a7_id_number"],
        "addr_village": "430421999999", "decl_on_behalf": "02"})
    response = CollectClient(live_server, seeded.tokens["helper"]).submit(xml)
    assert response.status_code == 201, response.text

    rows = get(live_server, "village", "/submissions", form_id="declaration").json()
    assert rows[0]["state"] == "invalid"
    detail = get(live_server, "village", f"/submissions/{rows[0]['id']}").json()
    assert [p["code"] for p in detail["problems"]] == ["AREA_UNKNOWN"]
    db.rollback()
    assert db.scalar(select(Declaration.id)) is None


# --- issue 11 point 16: who sees a declaration ---------------------------------------------


def test_a_declaration_is_visible_to_the_households_area_not_the_submitters(live_server,
                                                                          seeded):
    """SPEC §1: every user sees what lies inside their area — a declaration lies where its
    household is, whoever sent it: the household's village and township see it and its
    submission (with the signed 附件1); the submitter's township does not see the
    declaration, only its own submission."""
    survey(live_server, seeded, [HEAD, SPOUSE])
    declaration = declare(live_server, seeded, "helper_other", HEAD["a7_id_number"])
    path = f"/declarations/{declaration['id']}"
    submission = f"/submissions/{declaration['submission_id']}"

    for username in ("village", "township", "helper", "county"):
        assert get(live_server, username, path).status_code == 200, username
        assert get(live_server, username, submission).status_code == 200, username
        assert get(live_server, username, f"{submission}/attachments/sig.png").content == \
            SIGNATURE
    assert get(live_server, "helper_other", path).status_code == 404
    assert get(live_server, "helper_other", "/declarations").json() == []
    assert get(live_server, "helper_other", submission).status_code == 200  # theirs
    # The village's submission list stays what was sent there; the declaration is listed
    # among the village's declarations.
    assert get(live_server, "village", "/submissions", form_id="declaration").json() == []
    assert [d["id"] for d in get(live_server, "village", "/declarations").json()] == [
        declaration["id"]]


def test_a_declaration_of_an_unregistered_family_is_visible_to_the_declared_area(
        live_server, seeded):
    """SPEC §1: for a family not yet registered the declared address decides: its village's
    users see it; another village of the same township does not."""
    declaration = declare(live_server, seeded, "helper_other", NEWCOMER_ID, NEIGHBOUR_VILLAGE,
                          head_name="孙七", group=False)
    path = f"/declarations/{declaration['id']}"

    assert get(live_server, "township", path).status_code == 200
    assert get(live_server, "village", path).status_code == 404  # 洪罗庙社区, not 泰山村
    assert get(live_server, "helper_other", path).status_code == 404


def test_the_declaration_list_masks_numbers_paginates_and_filters(live_server, seeded):
    """SPEC §1 / README (personal data): ID numbers and phones masked for all but county and
    admin; the list is paginated (X-Pagination) and filters by state and area."""
    survey(live_server, seeded, [HEAD, SPOUSE])
    registered = declare(live_server, seeded, "helper", HEAD["a7_id_number"])
    pending = declare(live_server, seeded, "helper", NEWCOMER_ID, NEIGHBOUR_VILLAGE,
                      head_name="孙七", group=False)

    township = get(live_server, "township", "/declarations", page_size=1)
    assert json.loads(township.headers["X-Pagination"])["total"] == 2
    assert len(township.json()) == 1
    row = get(live_server, "township", f"/declarations/{registered['id']}").json()
    head = HEAD["a7_id_number"]
    assert row["head_id_number"] == f"{head[:6]}********{head[-4:]}"
    assert row["values"]["decl_head_id_number"] == row["head_id_number"]
    assert row["values"]["phone"] == "138****5678"
    full = get(live_server, "county", f"/declarations/{registered['id']}").json()
    assert full["head_id_number"] == head and full["values"]["phone"] == "13812345678"

    by_state = get(live_server, "township", "/declarations", state="pending_visit").json()
    assert [d["id"] for d in by_state] == [pending["id"]]
    by_area = get(live_server, "township", "/declarations", area_code=VILLAGE).json()
    assert [d["id"] for d in by_area] == [registered["id"]]
    assert get(live_server, "township", "/declarations", state="nonsense").status_code == 422

"""REST /users (issue 6): county and admin users manage the accounts of their area and the
helpers' ODK Collect tokens; passwords never appear; every change is in the audit log."""

from __future__ import annotations

import pytest

from server.domain.roles import Role
from tests.support.collect import CollectClient
from tests.support.rest import OTHER_COUNTY, Api, add_user, total, user_id
from tests.support.seed import COUNTY, PASSWORD, TOWNSHIP, VILLAGE

NEW_HELPER = {"username": "helper_new", "full_name": "王小明", "password": "s3cret-pass-1",
              "role": "helper", "area_code": VILLAGE, "phone": "13900001111"}


def audit(live_server, **filters) -> list[dict]:
    return Api(live_server, "county").items("/audit", **filters)


@pytest.mark.parametrize("username", ["helper", "village", "township"])
def test_only_county_and_admin_users_manage_accounts(live_server, seeded, username):
    other = Api(live_server, username)

    listed = other.get("/users")
    created = other.post("/users", NEW_HELPER)

    assert (listed.status_code, created.status_code) == (403, 403)
    assert listed.json()["code"] == "FORBIDDEN_ROLE"


def test_a_county_user_lists_the_users_of_their_county_only(live_server, seeded, db):
    add_user(db, "county_next_door", Role.COUNTY, OTHER_COUNTY)
    add_user(db, "city_admin", Role.ADMIN, "4304")
    county = Api(live_server, "county")

    names = {u["username"] for u in county.items("/users", page_size=100)}
    helpers = county.get("/users", role="helper", active="true")
    everyone = {u["username"] for u in Api(live_server, "city_admin").items("/users",
                                                                           page_size=100)}

    assert names == {"helper", "helper_other", "village", "township", "county", "inactive"}
    assert {u["username"] for u in helpers.json()} == {"helper", "helper_other"}
    assert total(helpers) == 2
    assert {"county_next_door", "city_admin"} <= everyone
    in_township = county.items("/users", area_code=TOWNSHIP)
    assert {u["username"] for u in in_township} == {"helper", "village", "township", "inactive"}
    assert county.get(f"/users/{user_id(db, 'county_next_door')}").status_code == 404


def test_a_county_user_creates_a_helper_who_must_choose_a_password_first(live_server, seeded):
    """Issue 15 (7): an account an admin created has a password the admin knows: until its
    user changes it, the REST API and OpenRosa with that password answer 403
    PASSWORD_CHANGE_REQUIRED, except who-am-I and the password change; a Collect token of the
    account works meanwhile (a helper's phone)."""
    county = Api(live_server, "county")

    created = county.post("/users", NEW_HELPER)

    assert created.status_code == 201, created.text
    body = created.json()
    assert "password" not in body and "argon2" not in created.text
    assert (body["username"], body["role"], body["area_code"], body["active"]) == (
        "helper_new", "helper", VILLAGE, True)
    assert body["active_tokens"] == 0 and body["area_name"] == "洪罗庙社区"
    assert body["must_change_password"] is True
    [entry] = audit(live_server, action="user.created")
    assert entry["object_id"] == str(body["id"]) and entry["username"] == "county"
    assert entry["details"] == {"username": "helper_new", "role": "helper",
                                "area_code": VILLAGE}
    new = Api(live_server, "helper_new", "s3cret-pass-1")
    token = county.post(f"/users/{body['id']}/tokens", {}).json()["token"]

    before = new.get("/areas")
    openrosa = CollectClient(live_server, auth=("helper_new", "s3cret-pass-1")).form_list()
    by_token = CollectClient(live_server, token).form_list()
    me = new.get("/me").json()
    changed = new.post("/me/password", {"old_password": "s3cret-pass-1",
                                        "new_password": "my-own-pass-22"})

    assert (before.status_code, before.json()["code"]) == (403, "PASSWORD_CHANGE_REQUIRED")
    assert (openrosa.status_code, openrosa.headers["X-Error-Code"]) == (
        403, "PASSWORD_CHANGE_REQUIRED")
    assert by_token.status_code == 200
    assert (me["username"], me["role"], me["must_change_password"]) == (
        "helper_new", "helper", True)
    assert changed.status_code == 200 and changed.json()["must_change_password"] is False
    assert Api(live_server, "helper_new", "my-own-pass-22").get("/areas").status_code == 200
    assert new.get("/areas").status_code == 401
    [changed_entry] = audit(live_server, action="user.password_changed")
    assert changed_entry["username"] == "helper_new"


def test_every_user_reads_their_account_and_changes_their_password(live_server, seeded):
    """Issue 15 (7): GET /me and POST /me/password for every role: the old password is
    checked (a wrong one is 400 PASSWORD_OLD_WRONG and counts as a failed login), the new one
    by the policy (PASSWORD_WEAK); the change is audited."""
    helper = Api(live_server, "helper")

    me = helper.get("/me").json()
    wrong_old = helper.post("/me/password", {"old_password": "not it",
                                             "new_password": "a-better-pass-1"})
    weak = helper.post("/me/password", {"old_password": PASSWORD,
                                        "new_password": "1234567890"})
    done = helper.post("/me/password", {"old_password": PASSWORD,
                                        "new_password": "a-better-pass-1"})

    assert (me["username"], me["role"], me["area_code"], me["must_change_password"]) == (
        "helper", "helper", VILLAGE, False)
    assert "phone" not in me and "password" not in me
    assert (wrong_old.status_code, wrong_old.json()["code"]) == (400, "PASSWORD_OLD_WRONG")
    assert (weak.status_code, weak.json()["code"]) == (400, "PASSWORD_WEAK")
    assert done.status_code == 200
    assert Api(live_server, "helper", "a-better-pass-1").get("/me").status_code == 200
    assert helper.get("/me").status_code == 401
    [entry] = audit(live_server, action="user.password_changed")
    assert entry["object_id"] == str(me["id"])


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"role": "county"}, 403, "ROLE_NOT_GRANTABLE"),
    ({"role": "admin"}, 403, "ROLE_NOT_GRANTABLE"),
    ({"area_code": "4304"}, 403, "AREA_OUTSIDE_SCOPE"),
    ({"area_code": "430421999"}, 400, "AREA_UNKNOWN"),
    ({"username": "helper"}, 409, "USERNAME_TAKEN"),
])
def test_a_county_user_cannot_create_outside_their_powers(live_server, seeded, changes,
                                                          status, code):
    county = Api(live_server, "county")

    response = county.post("/users", {**NEW_HELPER, **changes})

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert audit(live_server, action="user.created") == []


def test_bad_account_data_is_a_422_that_names_the_field(live_server, seeded):
    county = Api(live_server, "county")

    short = county.post("/users", {**NEW_HELPER, "password": "short"})
    nameless = county.post("/users", {k: v for k, v in NEW_HELPER.items() if k != "username"})

    assert short.status_code == 422 and "password" in short.text
    assert nameless.status_code == 422 and "username" in nameless.text


def test_an_admin_creates_county_users_inside_their_area(live_server, seeded, db):
    add_user(db, "admin", Role.ADMIN, COUNTY)
    admin = Api(live_server, "admin")

    created = admin.post("/users", {**NEW_HELPER, "username": "county2", "role": "county",
                                    "area_code": COUNTY})
    outside = admin.post("/users", {**NEW_HELPER, "username": "xy", "area_code": "4304"})

    assert created.status_code == 201 and created.json()["role"] == "county"
    assert outside.json()["code"] == "AREA_OUTSIDE_SCOPE"


def test_deactivating_a_user_locks_them_out_with_their_tokens(live_server, seeded, db):
    county = Api(live_server, "county")
    helper_id = user_id(db, "helper")

    response = county.post(f"/users/{helper_id}/deactivate")

    assert response.status_code == 200 and response.json()["active"] is False
    assert response.json()["active_tokens"] == 0
    assert Api(live_server, "helper").get("/areas").status_code == 401
    assert CollectClient(live_server, seeded.tokens["helper"]).form_list().status_code == 401
    [entry] = audit(live_server, action="user.deactivated")
    assert entry["object_id"] == str(helper_id) and entry["details"]["revoked_tokens"] == 1
    again = county.post(f"/users/{helper_id}/deactivate")  # nothing changes: nothing logged
    assert again.status_code == 200 and len(audit(live_server, action="user.deactivated")) == 1


def test_a_county_user_cannot_deactivate_county_users_nor_an_admin_themselves(live_server,
                                                                                seeded, db):
    add_user(db, "admin", Role.ADMIN, COUNTY)
    county = Api(live_server, "county")
    admin = Api(live_server, "admin")

    peer = county.post(f"/users/{user_id(db, 'county')}/deactivate")
    own = admin.post(f"/users/{user_id(db, 'admin')}/deactivate")
    missing = county.post("/users/999999/deactivate")

    assert (peer.status_code, peer.json()["code"]) == (403, "ROLE_NOT_GRANTABLE")
    assert (own.status_code, own.json()["code"]) == (409, "USER_SELF")
    assert missing.status_code == 404


def test_a_collect_token_is_shown_once_and_works_until_revoked(live_server, seeded, db):
    county = Api(live_server, "county")
    helper_id = user_id(db, "helper")

    issued = county.post(f"/users/{helper_id}/tokens")

    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    assert issued.json()["url"] == f"http://phones.example/key/{token}"
    assert CollectClient(live_server, token).form_list().status_code == 200
    assert CollectClient(live_server, seeded.tokens["helper"]).form_list().status_code == 200
    assert county.get(f"/users/{helper_id}").json()["active_tokens"] == 2
    assert token not in county.get("/audit").text

    replaced = county.post(f"/users/{helper_id}/tokens", {"revoke_old": True})

    assert replaced.json()["revoked_old"] == 2
    assert CollectClient(live_server, token).form_list().status_code == 401
    newest = replaced.json()["token"]
    assert CollectClient(live_server, newest).form_list().status_code == 200

    revoked = county.delete(f"/users/{helper_id}/tokens")

    assert revoked.json() == {"user_id": helper_id, "revoked": 1}
    assert CollectClient(live_server, newest).form_list().status_code == 401
    actions = [e["action"] for e in audit(live_server, object_type="user",
                                          object_id=str(helper_id))]
    assert actions == ["collect_token.revoked", "collect_token.issued", "collect_token.issued"]


def test_tokens_are_only_for_collecting_users_of_the_area(live_server, seeded, db):
    county = Api(live_server, "county")
    add_user(db, "helper_next_door", Role.HELPER, OTHER_COUNTY)

    township = county.post(f"/users/{user_id(db, 'township')}/tokens")
    inactive = county.post(f"/users/{user_id(db, 'inactive')}/tokens")
    elsewhere = county.post(f"/users/{user_id(db, 'helper_next_door')}/tokens")
    village = county.post(f"/users/{user_id(db, 'village')}/tokens")
    helper_other = county.delete(f"/users/{user_id(db, 'helper_other')}/tokens")

    assert (township.status_code, township.json()["code"]) == (409, "TOKEN_NOT_FOR_ROLE")
    assert (inactive.status_code, inactive.json()["code"]) == (409, "USER_INACTIVE")
    assert elsewhere.status_code == 404
    assert village.status_code == 201
    assert helper_other.json()["revoked"] == 1  # a helper in another township of the county

"""Helpers of the REST API tests (issue 6): a client per user, households posted through the
phone's path, and users added beside the seeded ones."""

from __future__ import annotations

import json

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.areas.models import Area
from server.domain.roles import Role
from tests.support.collect import HTTP_TIMEOUT, CollectClient, form_instance
from tests.support.households import SURVEY_FIELDS, address
from tests.support.seed import PASSWORD, PASSWORD_HASH, VILLAGE

OTHER_COUNTY = "430422"  # 衡南县: not in the seeded subtree; tests add it when they need it


class Api:
    """The REST API as one user sees it, over real HTTP with Basic auth."""

    def __init__(self, live_server: str, username: str | None, password: str = PASSWORD):
        self.http = requests.Session()
        if username:
            self.http.auth = (username, password)
        self.base = f"{live_server}/api/v1"

    def get(self, path: str, **params) -> requests.Response:
        return self.http.get(f"{self.base}{path}", params=params, timeout=HTTP_TIMEOUT)

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.http.post(f"{self.base}{path}", json=body if body is not None else {},
                              timeout=HTTP_TIMEOUT)

    def patch(self, path: str, body: dict) -> requests.Response:
        return self.http.patch(f"{self.base}{path}", json=body, timeout=HTTP_TIMEOUT)

    def delete(self, path: str) -> requests.Response:
        return self.http.delete(f"{self.base}{path}", timeout=HTTP_TIMEOUT)

    def items(self, path: str, **params) -> list[dict]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def people_with_id(self, id_number: str) -> list[dict]:
        """The exact-ID search (``POST /people/search``: the number in the body, not the URL)."""
        response = self.http.post(f"{self.base}/people/search", json={"id_number": id_number},
                                  timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()


def total(response: requests.Response) -> int:
    """The item count of a paginated answer (X-Pagination header)."""
    return json.loads(response.headers["X-Pagination"])["total"]


def post_household(live_server: str, seeded, members: list[dict], *, username: str = "helper",
                   village: str = VILLAGE, files: dict[str, bytes] | None = None,
                   resurveys: str | None = None, **fields: str) -> requests.Response:
    """A household survey sent as ODK Collect sends it, by a seeded collecting user: a new
    household, or with ``resurveys`` the form's resurvey of that registered household."""
    client = CollectClient(live_server, seeded.tokens[username])
    if resurveys:
        fields = {"resurvey": "01", "household": resurveys, **fields}
    xml = form_instance("household", seeded.form_versions["household"],
                        {**SURVEY_FIELDS, **address(village), **fields}, members,
                        entity_id=resurveys)
    response = client.submit(xml, files)
    assert response.status_code == 201, response.text
    return response


def household_of(live_server: str, id_number: str) -> str:
    """The registered household of a person, looked up as a county user."""
    [person] = Api(live_server, "county").people_with_id(id_number)
    return person["household_id"]


def add_user(db: Session, username: str, role: Role, area_code: str) -> User:
    """A user beside the seeded ones (password PASSWORD), committed; adds a county that is not
    in the seeded subtree when needed."""
    if db.get(Area, area_code) is None:
        assert area_code == OTHER_COUNTY
        db.add(Area(code=OTHER_COUNTY, name="衡南县", level="county", parent_code="4304"))
    user = User(username=username, full_name=f"测试{username}", role=role.value,
                area_code=area_code, password_hash=PASSWORD_HASH, active=True)
    db.add(user)
    db.commit()
    return user


def user_id(db: Session, username: str) -> int:
    db.commit()  # a fresh snapshot: see what the server wrote
    return db.scalar(select(User.id).where(User.username == username))

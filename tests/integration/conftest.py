"""Fixtures of the service-level tests: a session on the test's database and its users."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.auth import Principal
from server.db import make_engine


@pytest.fixture
def session(backend, request):
    """A session on the test's own database; a test marked ``rolled_back`` gets instead one
    inside a transaction rolled back after it, on a database its worker shares
    (``rolled_back_session``, tests/conftest.py: what it suits and what it does not)."""
    if request.node.get_closest_marker("rolled_back"):
        yield request.getfixturevalue("rolled_back_session")
        return
    engine = make_engine(request.getfixturevalue("database").url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def user(session: Session, username: str) -> Principal:
    """A seeded user (tests/support/seed.py) as the services see them."""
    return Principal.of(session.scalar(select(User).where(User.username == username)))


@pytest.fixture
def helper(session) -> Principal:
    return user(session, "helper")

"""Fixtures of the service-level tests: a session on the test's database and its users."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.auth import Principal
from server.db import make_engine


@pytest.fixture
def session(database):
    engine = make_engine(database.url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def user(session: Session, username: str) -> Principal:
    """A seeded user (tests/support/seed.py) as the services see them."""
    return Principal.of(session.scalar(select(User).where(User.username == username)))


@pytest.fixture
def helper(session) -> Principal:
    return user(session, "helper")

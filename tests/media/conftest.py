"""Fixtures for the media store tests: every store, S3 behind a real HTTP server (the session's
``s3_endpoint``, tests/conftest.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from media import LocalMediaStore, MediaStore, MemoryMediaStore, S3MediaStore
from tests.support.s3server import s3_client


@pytest.fixture
def s3_store(s3_endpoint: str) -> S3MediaStore:
    """An S3 store over a fresh bucket."""
    store = S3MediaStore(f"media-{uuid.uuid4().hex[:16]}", client=s3_client(s3_endpoint))
    store.create_bucket_if_missing()
    return store


@pytest.fixture
def local_store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest) -> MediaStore:
    """Each store implementation in turn, for the contract tests."""
    if request.param == "memory":
        return MemoryMediaStore()
    return request.getfixturevalue(f"{request.param}_store")

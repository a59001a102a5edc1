"""Schemathesis against the served OpenAPI document, through the WSGI app (issue 6): no 5xx,
no response that breaks its schema, no undocumented status. Bounded: 15 generated requests per
operation. (Driven with hypothesis directly: schemathesis' pytest plugin predates pytest 9.)"""

from __future__ import annotations

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.seed import PASSWORD

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def app_config(app_config) -> dict:
    """The login limiter off: generated wrong old passwords (POST /me/password) would lock the
    account, and every later operation would answer 429 alone."""
    return {**app_config, "LOGIN_FAILURES_PER_ACCOUNT": 0, "LOGIN_FAILURES_PER_ADDRESS": 0}


@pytest.mark.slow
@pytest.mark.parametrize("username", ["county", "helper"])
def test_the_api_answers_every_generated_request_within_its_schema(app, seeded, username):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    auth = {"Authorization": "Basic " + base64.b64encode(
        f"{username}:{PASSWORD}".encode()).decode()}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(headers=auth, checks=CHECKS)

        fuzz()

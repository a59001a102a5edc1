"""The take-in benchmark's pieces (tests/bench/bench_takein.py): its bodies are valid new
households that the take-in applies, and its check catches a take-in that did not."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.households.models import Household, Person
from server.intake.worker import take_in_batch
from server.submissions.models import Submission
from tests.bench.bench_submissions import BodyFactory, run_load
from tests.bench.bench_takein import SUBMISSION, Counts, taken_in_problems


@pytest.fixture
def queued(app_config):
    app_config["TAKE_IN"] = "queue"


def test_the_bench_bodies_are_new_three_person_households_taken_in_as_applied(
        queued, live_server, seeded, db):
    factory = BodyFactory(seeded.form_versions["household"])
    port = int(live_server.rsplit(":", 1)[1])

    stored = run_load(port, SUBMISSION.format(token=seeded.tokens["helper"]),
                      factory.build(5, False), concurrency=1)

    assert stored.failures == [] and len(stored.latencies) == 5
    assert db.scalars(select(Submission.state)).all() == ["received"] * 5
    report = take_in_batch(db, 100)
    db.commit()
    assert report.states == {"applied": 5} and not report.failed
    assert db.scalar(select(func.count()).select_from(Household)) == 5
    assert db.scalar(select(func.count()).select_from(Person)) == 15


def test_the_bench_check_reports_a_submission_not_applied_and_missing_people():
    before = Counts({"applied": 10}, households=10, persons=30)
    good = Counts({"applied": 13}, households=13, persons=39)
    held = Counts({"applied": 12, "held": 1}, households=12, persons=36)

    assert taken_in_problems("x", before, good, 3) == []
    problems = taken_in_problems("x", before, held, 3)
    assert len(problems) == 3  # the held one, the household and the persons missing
    assert "held" in problems[0]

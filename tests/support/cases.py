"""Helpers of the case tests: the signatures an approval needs (SPEC §6, 附件1/附件3/附件5),
given in the signer's capacity, and monitoring objects for the elimination procedure."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy.orm import Session

from server import clock
from server.domain.pipeline import Procedure, Signer, Step, required_signers
from server.households.models import Household
from server.pipeline.models import Case, MonitoringContact
from tests.support.collect import png_bytes


def signature_image(signer: str) -> bytes:
    """A signature image of its own for each signer (different sizes: different keys)."""
    return png_bytes((200 + 10 * list(Signer).index(Signer(signer)), 60))


def signed(procedure: Procedure | str, step: Step | str) -> list[dict]:
    """``act``'s signatures for the approval of ``step``: one per signer the step needs."""
    return [{"key": hashlib.sha256(signature_image(s)).hexdigest(), "signer": s.value}
            for s in required_signers(Procedure(procedure), Step(step))]


def signature_parts(procedure: Procedure | str, step: Step | str) -> list[tuple]:
    """The multipart parts ``signature_<signer>`` for the approval of ``step`` (requests'
    ``files``)."""
    return [(f"signature_{s.value}", (f"{s.value}.png", signature_image(s), "image/png"))
            for s in required_signers(Procedure(procedure), Step(step))]


def monitoring_object(db: Session, household_id: str) -> int:
    """Make the household a monitoring object: an identification approved by the county a
    minute ago, written as the procedure leaves it (the whole procedure is run in
    tests/integration/test_cases.py). Committed; the case's id."""
    household = db.get(Household, household_id)
    closed = datetime.now(UTC) - timedelta(minutes=1)
    case = Case(procedure="identification", step="county_approval", status="done",
                area_code=household.area_code, household_id=household_id,
                opened_at=closed - timedelta(days=20), step_entered_at=closed,
                closed_at=closed)
    db.add(case)
    db.flush()
    case_id = case.id
    db.commit()
    return case_id


# --- cases written at a given step (the console's tests) ------------------------------------


def case_at(db: Session, step: Step | str, area_code: str, *,
            procedure: Procedure | str = Procedure.IDENTIFICATION, household: bool = False,
            contact: bool = False, notice_days_ago: int | None = None) -> int:
    """A case written directly at ``step`` (as the procedure would have left it), with a
    household of its area if ``household`` (and its monitoring contact if ``contact``), its
    public notice begun ``notice_days_ago``. Committed; the case's id."""
    household_id = None
    if household or contact:
        household_id = str(uuid4())
        db.add(Household(id=household_id, area_code=area_code, size=3))
        db.flush()
    if contact:
        db.add(MonitoringContact(household_id=household_id, name="刘强", unit="洪市镇人民政府",
                                 position="副镇长"))
    entered = datetime.now(UTC) - timedelta(days=notice_days_ago or 1)
    case = Case(procedure=Procedure(procedure).value, step=Step(step).value,
                area_code=area_code, household_id=household_id, opened_at=entered,
                step_entered_at=entered,
                notice_started=(clock.today() - timedelta(days=notice_days_ago)
                                if notice_days_ago is not None else None))
    db.add(case)
    db.flush()
    case_id = case.id
    db.commit()
    return case_id

"""Where a new submission is committed (server.submissions.services.ingest_submission).

One semantics on both databases: the submission is stored when its unit of work commits, and
what follows the commit (the take-in) cannot lose it. On PostgreSQL the submission, its media
rows, attachment links and audit entry are one autocommitted statement, the unit's whole work;
on SQLite they are statements of the unit's transaction.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from media.memory import MemoryMediaStore
from media.uploads import UploadedFile
from server.audit.models import AuditEntry
from server.db import Database, autocommit_engine
from server.submissions.models import MediaObject, Submission, SubmissionAttachment
from server.submissions.services import ingest_submission
from tests.integration.conftest import user
from tests.support.collect import household_instance, jpeg_bytes, png_bytes


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _ingest(session, helper, seeded, instance_id: str):
    files = [UploadedFile("house.jpg", io.BytesIO(jpeg_bytes()), "image/jpeg"),
             UploadedFile("sig.png", io.BytesIO(png_bytes()), "image/png")]
    xml = household_instance(seeded.form_versions["household"], instance_id)
    return ingest_submission(session, MemoryMediaStore(), helper, xml, files)


def test_a_stored_submission_survives_a_failing_take_in_on_both_backends(
        database, seeded, backend):
    """DESIGN (one unit of work): the take-in follows the commit of the stored submission, so
    a take-in that fails loses nothing, on SQLite as on PostgreSQL; a new submission on
    PostgreSQL is one statement carrying its attachments, media rows and audit entry."""
    db = Database(database.url)
    failing = []

    def take_in_that_fails() -> None:
        failing.append(True)
        raise RuntimeError("the take-in failed")

    with pytest.raises(RuntimeError), db.unit_of_work() as unit:
        helper = user(unit.session, "helper")
        result = _ingest(unit.session, helper, seeded, "uuid:unit-of-work")
        unit.after_commit(take_in_that_fails)

    session = db.sessions()
    assert failing and _count(session, Submission, Submission.id == result.submission_id) == 1
    stored = session.get(Submission, result.submission_id)
    assert (stored.state, stored.problems, stored.corrections) == ("received", [], {})
    assert stored.received_at.tzinfo is not None
    assert _count(session, SubmissionAttachment,
                  SubmissionAttachment.submission_id == result.submission_id,
                  SubmissionAttachment.media_sha256.is_not(None)) == 2
    assert _count(session, MediaObject) == 2  # the attachments' media rows came with it
    [entry] = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "submission.received",
        AuditEntry.object_id == str(result.submission_id))).all()
    assert (entry.object_type, entry.user_id) == ("submission", helper.id)
    assert entry.details == {"instance_id": "uuid:unit-of-work", "form_id": "household",
                             "version": seeded.form_versions["household"], "attachments": 2,
                             "complete": True}
    assert abs((entry.at - stored.received_at).total_seconds()) < 5
    session.close()
    db.engine.dispose()


def test_a_refused_submission_is_kept_when_its_unit_of_work_rolls_back(database, seeded):
    """SPEC (nothing sent is lost): a refused upload's XML and record are kept by the unit of
    work's rollback work, in a unit of their own, on both backends."""
    from server.errors import AppError
    from server.submissions.models import RejectedUpload

    db = Database(database.url)
    with pytest.raises(AppError), db.unit_of_work() as unit:
        helper = user(unit.session, "helper")
        xml = household_instance(seeded.form_versions["household"], "uuid:refused")
        bad = [UploadedFile("house.jpg", io.BytesIO(b"not a jpeg"), "image/jpeg")]
        ingest_submission(unit.session, MemoryMediaStore(), helper, xml, bad)

    session = db.sessions()
    [kept] = session.scalars(select(RejectedUpload)).all()
    assert (kept.error_code, kept.instance_id) == ("ATTACHMENT_NOT_IMAGE", "uuid:refused")
    assert _count(session, Submission) == 0
    session.close()
    db.engine.dispose()


@pytest.mark.parametrize("photo,signature,sent", [
    ("", "", 0),  # the form names no file: no attachment rows
    ("house.jpg", "sig.png", 0),  # named, not sent yet (Collect sends them in a later POST)
    ("house.jpg", "", 1),  # one named and sent
])
def test_submissions_with_and_without_files_are_stored_whole(
        session, helper, seeded, photo, signature, sent):
    xml = household_instance(seeded.form_versions["household"], f"uuid:{photo}{signature}{sent}",
                             photo=photo, signature=signature)
    files = [UploadedFile("house.jpg", io.BytesIO(jpeg_bytes()), "image/jpeg")][:sent]

    result = ingest_submission(session, MemoryMediaStore(), helper, xml, files)
    session.commit()

    named = [name for name in (photo, signature) if name]
    rows = session.execute(select(SubmissionAttachment.name, SubmissionAttachment.media_sha256)
                           .where(SubmissionAttachment.submission_id == result.submission_id)
                           .order_by(SubmissionAttachment.name)).all()
    assert [row.name for row in rows] == sorted(named)
    assert sum(row.media_sha256 is not None for row in rows) == sent
    assert _count(session, MediaObject) == sent
    assert result.complete == (sent == len(named))
    assert session.get(Submission, result.submission_id).complete == result.complete


@pytest.mark.parametrize("photo", ["", "house.jpg"])
def test_an_unreferenced_file_is_stored_in_the_same_statement(session, helper, seeded, photo):
    """SPEC §5 (nothing sent is lost): a part the instance does not name is kept as an
    unreferenced attachment (empty field path) with its media row, in the one statement of a
    new submission on PostgreSQL (also when the form names no file) and in the caller's
    transaction on SQLite; it does not make the submission incomplete."""
    xml = household_instance(seeded.form_versions["household"], f"uuid:unref{photo}",
                             photo=photo, signature="")
    files = [UploadedFile("stale.jpg", io.BytesIO(b"anything"), "image/jpeg"),
             UploadedFile("house.jpg", io.BytesIO(jpeg_bytes()), "image/jpeg")][:1 + bool(photo)]

    result = ingest_submission(session, MemoryMediaStore(), helper, xml, files)
    session.commit()

    rows = session.execute(select(SubmissionAttachment.name, SubmissionAttachment.field_path,
                                  SubmissionAttachment.media_sha256)
                           .where(SubmissionAttachment.submission_id == result.submission_id)
                           .order_by(SubmissionAttachment.name)).all()
    expected = [("stale.jpg", "")] + ([("house.jpg", "/data/photo_house")] if photo else [])
    assert sorted((row.name, row.field_path) for row in rows) == sorted(expected)
    assert all(row.media_sha256 for row in rows)
    assert _count(session, MediaObject) == len(files)
    assert result.complete and session.get(Submission, result.submission_id).complete


def test_the_same_files_again_are_registered_once(session, helper, seeded):
    first = _ingest(session, helper, seeded, "uuid:first")
    second = _ingest(session, helper, seeded, "uuid:second")  # same photo and signature bytes
    session.commit()

    assert first.submission_id != second.submission_id
    assert _count(session, MediaObject) == 2
    assert _count(session, SubmissionAttachment, SubmissionAttachment.media_sha256.is_not(None)
                  ) == 4


def test_the_autocommit_twin_exists_on_postgresql_only_and_is_disposed_with_its_engine(
        session, backend):
    engine = session.get_bind()
    twin = autocommit_engine(engine)
    if backend == "sqlite":
        assert twin is None
        return
    with twin.connect() as connection:
        assert connection.connection.driver_connection.autocommit is True
    assert twin.pool.checkedin() == 1
    engine.dispose()
    assert twin.pool.checkedin() == 0

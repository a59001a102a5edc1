"""``fangpin backup``, ``restore`` and ``verify-media`` (issue 15.11), as an operator runs them:
the real command (click's runner over the app's CLI), a real database (SQLite and PostgreSQL:
pg_dump and pg_restore of the server's version), a real media store (a local folder and an
S3-compatible server), households sent by phones over HTTP with their photos and signatures.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from media import LocalMediaStore, S3MediaStore
from server import create_app
from server.backup import MANIFEST, table_names
from server.cli import main
from tests.integration.test_registry import HEAD, SPOUSE
from tests.support.collect import CollectClient, jpeg_bytes, png_bytes
from tests.support.households import id_number
from tests.support.s3server import CREDENTIALS, REGION, s3_client
from tests.support.serving import serving
from tests.sync.test_submission_registry import household_xml

HOUSEHOLDS = 3


def family(n: int) -> list[dict]:
    return [{**HEAD, "a7_id_number": id_number("430421", "19800101", 100 + n)},
            {**SPOUSE, "a7_id_number": id_number("430421", "19820202", 200 + n)}]


def store_config(media: str, tmp_path: Path, request, name: str) -> dict:
    """The app settings of a fresh local folder or a fresh S3 bucket."""
    if media == "local":
        return {"MEDIA_STORE": str(tmp_path / name)}
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"{name}-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return {"MEDIA_STORE": f"s3://{bucket}/media", "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": REGION, "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"]}


@contextmanager
def application(database_url: str, store: dict) -> Iterator:
    app = create_app({"DATABASE_URL": database_url, "PUBLIC_URL": "http://phones.example",
                      "MAX_SUBMISSION_BYTES": 2 * 1024 * 1024, **store})
    try:
        yield app
    finally:
        app.extensions["fangpin.db"].engine.dispose()


def send_households(app, seeded, count: int = HOUSEHOLDS, start: int = 0) -> None:
    """Households sent by a phone, each with its own photo and signature."""
    with serving(app) as url:
        client = CollectClient(url, seeded.tokens["helper"])
        for n in range(start, start + count):
            xml = household_xml(seeded, family(n), photo_house="house.jpg",
                                sig_applicant="sig.png")
            files = {"house.jpg": jpeg_bytes(color=(n * 40 % 256, 120, 40)),
                     "sig.png": png_bytes((120 + n, 40))}
            response = client.submit(xml, files)
            assert response.status_code == 201, response.text


def cli(app, *arguments: str):
    return app.test_cli_runner().invoke(main, list(arguments))


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return {name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()
                    for name in table_names(connection)}
    finally:
        engine.dispose()


def rows(url: str, query: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def held_hashes(store) -> dict[str, str]:
    """Every object of a store: its key → the SHA-256 of its bytes as read back."""
    found = {}
    for key in store.iter_keys():
        with store.open(key) as stream:
            found[key] = hashlib.sha256(stream.read()).hexdigest()
    return found


@pytest.mark.parametrize("media", ["local", "s3"])
def test_a_backup_restores_into_an_empty_database_and_store_with_every_row_and_file(
        database, empty_database, backend, media, tmp_path, request):
    """Issue 15.11: ``fangpin backup DIR`` then ``fangpin restore DIR`` into a new empty
    database and store gives every table the same rows and every media object the same bytes
    (SHA-256), on SQLite and PostgreSQL, with a local folder and S3; the restored copy passes
    ``verify-media``; both are audited."""
    target = tmp_path / "backup"
    with application(database.url, store_config(media, tmp_path, request, "source")) as app:
        send_households(app, database.seeded)
        result = cli(app, "backup", str(target))
        assert result.exit_code == 0, result.output
        assert "备份媒体文件：完成 6，失败 0" in result.output
        source_store = app.extensions["fangpin.media"]
        source_media = held_hashes(source_store)
    source_counts = counts(database.url)

    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["database"]["kind"] == backend and manifest["missing"] == []
    assert manifest["database"]["alembic_revision"]
    media_rows = rows(database.url, "SELECT sha256, size FROM media_objects")
    assert len(media_rows) == 2 * HOUSEHOLDS
    assert {(e["key"], e["size"]) for e in manifest["media"]} == set(media_rows)
    assert all(e["key"] == e["sha256"] for e in manifest["media"])
    assert {e["key"] for e in manifest["media"]} == set(source_media)
    for entry in manifest["media"]:
        copied = (target / "media" / entry["key"]).read_bytes()
        assert hashlib.sha256(copied).hexdigest() == entry["sha256"]
    # the backup's own audit entry is written after the snapshot, in the live database
    assert manifest["tables"]["audit_log"] == source_counts["audit_log"] - 1
    assert {k: v for k, v in manifest["tables"].items() if k != "audit_log"} == \
        {k: v for k, v in source_counts.items() if k != "audit_log"}
    assert manifest["tables"]["submissions"] == HOUSEHOLDS

    with application(empty_database, store_config(media, tmp_path, request, "restored")
                      ) as restored:
        result = cli(restored, "restore", str(target))
        assert result.exit_code == 0, result.output
        assert "恢复媒体文件：完成 6，失败 0" in result.output
        assert held_hashes(restored.extensions["fangpin.media"]) == source_media
        checked = cli(restored, "verify-media")
        assert checked.exit_code == 0, checked.output
        assert "检查 6 个：缺失 0，损坏 0" in checked.output

    assert counts(empty_database) == source_counts  # each has one more audit entry than backed up
    query = "SELECT id, household_id, state, xml_sha256 FROM submissions ORDER BY id"
    assert rows(empty_database, query) == rows(database.url, query)
    assert rows(empty_database, "SELECT action FROM audit_log WHERE action LIKE 'backup.%'"
                ) == [("backup.restored",)]
    assert rows(database.url, "SELECT action FROM audit_log WHERE action LIKE 'backup.%'"
                ) == [("backup.created",)]


def test_verify_media_finds_a_missing_and_a_corrupt_object_and_backup_lists_them(
        database, empty_database, tmp_path, request):
    """Issue 15.11: ``verify-media`` names the object removed from the store and the one whose
    bytes changed, and exits non-zero; a backup then still copies the rest, lists both in its
    manifest and fails (BACKUP_INCOMPLETE); its restore needs ``--accept-incomplete``."""
    store_settings = store_config("local", tmp_path, request, "source")
    with application(database.url, store_settings) as app:
        send_households(app, database.seeded, count=2)
        assert cli(app, "verify-media").exit_code == 0
        store: LocalMediaStore = app.extensions["fangpin.media"]
        gone, damaged = sorted(store.iter_keys())[:2]
        store.path(gone).unlink()
        store.path(damaged).write_bytes(b"not the photo any more")

        checked = cli(app, "verify-media")
        assert checked.exit_code == 1 and "MEDIA_VERIFY_FAILED" in checked.output
        assert f"缺失：{gone}" in checked.output and f"损坏：{damaged}" in checked.output
        assert "检查媒体文件：完成 2，失败 2" in checked.output
        sampled = cli(app, "verify-media", "--sample", "4")
        assert sampled.exit_code == 1 and "检查 4 个" in sampled.output

        target = tmp_path / "backup"
        result = cli(app, "backup", str(target))
        assert result.exit_code == 1 and "BACKUP_INCOMPLETE" in result.output, result.output
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["missing"] == [gone] and manifest["corrupt"] == [damaged]
    assert len(manifest["media"]) == 2
    assert sorted(p.name for p in (target / "media").iterdir()) == \
        sorted(e["key"] for e in manifest["media"])

    with application(empty_database, store_config("local", tmp_path, request, "restored")
                     ) as restored:
        refused = cli(restored, "restore", str(target))
        assert refused.exit_code == 1 and "RESTORE_INCOMPLETE_BACKUP" in refused.output
        assert counts(empty_database) == {}
        result = cli(restored, "restore", str(target), "--accept-incomplete")
        assert result.exit_code == 0, result.output
        checked = cli(restored, "verify-media")
        assert checked.exit_code == 1 and "缺失 2，损坏 0" in checked.output


def test_an_object_gone_from_s3_is_reported_missing(database, tmp_path, request):
    """The same check over an S3 store: a deleted object is missing."""
    with application(database.url, store_config("s3", tmp_path, request, "source")) as app:
        send_households(app, database.seeded, count=1)
        store: S3MediaStore = app.extensions["fangpin.media"]
        key = sorted(store.iter_keys())[0]
        store.client.delete_object(Bucket=store.bucket, Key=store.object_key(key))
        checked = cli(app, "verify-media")
    assert checked.exit_code == 1 and f"缺失：{key}" in checked.output


def test_what_a_backup_and_a_restore_refuse(database, empty_database, backend, tmp_path,
                                           request):
    """A backup goes into an absent or empty folder only; a restore only into an empty
    database and a store without other objects, and only from files whose SHA-256 match the
    manifest (the database file and each object)."""
    with application(database.url, store_config("local", tmp_path, request, "source")) as app:
        send_households(app, database.seeded, count=1)
        busy = tmp_path / "busy"
        busy.mkdir()
        (busy / "other.txt").write_text("x")
        refused = cli(app, "backup", str(busy))
        assert refused.exit_code == 1 and "BACKUP_DIR_NOT_EMPTY" in refused.output
        target = tmp_path / "backup"
        assert cli(app, "backup", str(target)).exit_code == 0
        into_itself = cli(app, "restore", str(target))
        assert into_itself.exit_code == 1 and "RESTORE_DATABASE_NOT_EMPTY" in into_itself.output
        assert "BACKUP_DIR_NOT_EMPTY" in cli(app, "backup", str(target)).output

    other = store_config("local", tmp_path, request, "other")
    with application(empty_database, other) as restored:
        foreign = restored.extensions["fangpin.media"]
        import io

        foreign.put(io.BytesIO(b"an object of another county"))
        refused = cli(restored, "restore", str(target))
        assert refused.exit_code == 1 and "RESTORE_STORE_NOT_EMPTY" in refused.output

    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    photo = target / "media" / manifest["media"][0]["key"]
    original = photo.read_bytes()
    photo.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with application(empty_database, store_config("local", tmp_path, request, "fresh")
                     ) as restored:
        refused = cli(restored, "restore", str(target))
        assert refused.exit_code == 1 and "RESTORE_HASH_MISMATCH" in refused.output
        assert counts(empty_database) == {}  # the database is restored last
        photo.write_bytes(original)
        dump = target / manifest["database"]["file"]
        dump_bytes = dump.read_bytes()
        dump.write_bytes(dump_bytes + b"\0")
        refused = cli(restored, "restore", str(target))
        assert refused.exit_code == 1 and "RESTORE_HASH_MISMATCH" in refused.output
        dump.write_bytes(dump_bytes)
        # an interrupted restore (its objects already put) may be run again
        result = cli(restored, "restore", str(target))
        assert result.exit_code == 0, result.output


def test_a_backup_taken_while_phones_send_is_one_consistent_state(database, empty_database,
                                                                  tmp_path, request):
    """Issue 15.11 (a consistent backup): phones keep sending while the backup runs; the media
    listed are exactly those the backed-up database references — the restored copy has every
    object its rows name (``verify-media`` passes) and the counts of the manifest."""
    stop = threading.Event()
    sent: list[int] = []

    def phone(url: str) -> None:
        client = CollectClient(url, database.seeded.tokens["helper"])
        n = 100
        while not stop.is_set():
            xml = household_xml(database.seeded, family(n), photo_house="house.jpg",
                                sig_applicant="sig.png")
            response = client.submit(xml, {"house.jpg": jpeg_bytes(color=(n % 256, n // 256, 9)),
                                           "sig.png": png_bytes((100 + n % 200, 40))})
            assert response.status_code == 201, response.text
            sent.append(n)
            n += 1

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while len(sent) < count:  # (a phone whose sending failed stops: this fails then)
            assert sender.is_alive() and time.monotonic() < deadline
            stop.wait(0.05)

    target = tmp_path / "backup"
    with application(database.url, store_config("local", tmp_path, request, "source")) as app:
        send_households(app, database.seeded, count=2)
        with serving(app) as url:
            sender = threading.Thread(target=phone, args=(url,))
            sender.start()
            try:
                wait_for(3)
                result = cli(app, "backup", str(target))
                wait_for(len(sent) + 2)
            finally:
                stop.set()
                sender.join()
        assert result.exit_code == 0, result.output
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    backed_up = manifest["tables"]["submissions"]
    assert 2 + 3 <= backed_up < 2 + len(sent)  # some sent before, some after the snapshot
    assert len(manifest["media"]) == manifest["tables"]["media_objects"]

    with application(empty_database, store_config("local", tmp_path, request, "restored")
                     ) as restored:
        assert cli(restored, "restore", str(target)).exit_code == 0
        checked = cli(restored, "verify-media")
        assert checked.exit_code == 0, checked.output
        assert len(list(restored.extensions["fangpin.media"].iter_keys())) == \
            len(manifest["media"])

"""Behaviour specific to each store, and the store_from_url factory."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from typing import Any

import pytest

from media import (
    LocalMediaStore,
    MemoryMediaStore,
    S3MediaStore,
    StoredMedia,
    store_from_url,
)
from media.s3 import TRANSFER_CONFIG
from tests.support.s3server import s3_options


class FailingStream(io.RawIOBase):
    """Yields some bytes, then fails like a dropped upload."""

    def __init__(self) -> None:
        self._sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._sent:
            raise ConnectionResetError("client went away")
        self._sent = True
        buffer[:5] = b"start"
        return 5


def tmp_files(store: LocalMediaStore) -> list[Path]:
    return list((store.root / "tmp").iterdir())


# --- local -----------------------------------------------------------------


def test_local_layout(local_store: LocalMediaStore) -> None:
    stored = local_store.put(io.BytesIO(b"photo"))
    key = stored.key
    expected = local_store.root / key[:2] / key[2:4] / key
    assert local_store.path(key) == expected
    assert expected.read_bytes() == b"photo"
    assert tmp_files(local_store) == []


def test_local_failed_put_leaves_nothing(local_store: LocalMediaStore) -> None:
    with pytest.raises(ConnectionResetError):
        local_store.put(FailingStream())  # type: ignore[arg-type]
    assert tmp_files(local_store) == []
    assert [p for p in local_store.root.iterdir() if p.name != "tmp"] == []


def test_local_concurrent_puts_of_same_content(local_store: LocalMediaStore) -> None:
    content = bytes(range(256)) * 4096  # 1 MiB
    results: list[StoredMedia] = []
    barrier = threading.Barrier(8)

    def put() -> None:
        barrier.wait()
        results.append(local_store.put(io.BytesIO(content)))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert {r.key for r in results} == {hashlib.sha256(content).hexdigest()}
    assert local_store.path(results[0].key).read_bytes() == content
    assert tmp_files(local_store) == []


def test_local_store_survives_reopening(tmp_path: Path) -> None:
    stored = LocalMediaStore(tmp_path).put(io.BytesIO(b"kept"))
    assert LocalMediaStore(tmp_path).open(stored.key).read() == b"kept"


# --- S3 --------------------------------------------------------------------


def test_s3_existing_object_is_not_uploaded_again(
    s3_store: S3MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads: list[dict[str, Any]] = []
    real_upload = s3_store.client.upload_fileobj

    def spy(*args: Any, **kwargs: Any) -> None:
        uploads.append(kwargs)
        real_upload(*args, **kwargs)

    monkeypatch.setattr(s3_store.client, "upload_fileobj", spy)
    s3_store.put(io.BytesIO(b"signature"))
    s3_store.put(io.BytesIO(b"signature"))

    assert len(uploads) == 1
    assert uploads[0]["Config"] is TRANSFER_CONFIG
    assert TRANSFER_CONFIG.use_threads is False
    assert TRANSFER_CONFIG.multipart_chunksize == 8 * 1024 * 1024


def test_s3_open_returns_a_closable_reader(s3_store: S3MediaStore) -> None:
    stored = s3_store.put(io.BytesIO(b"0123456789"))
    reader = s3_store.open(stored.key)
    assert reader.read(4) == b"0123"
    assert reader.read() == b"456789"
    reader.close()
    assert reader.closed


def test_s3_prefix(s3_store: S3MediaStore) -> None:
    prefixed = S3MediaStore(s3_store.bucket, prefix="/uploads/photos/", client=s3_store.client)
    stored = prefixed.put(io.BytesIO(b"x"))
    listing = s3_store.client.list_objects_v2(Bucket=s3_store.bucket)
    assert [o["Key"] for o in listing["Contents"]] == [f"uploads/photos/{stored.key}"]
    assert not s3_store.exists(stored.key)
    assert prefixed.exists(stored.key)


def test_create_bucket_if_missing_is_idempotent(s3_store: S3MediaStore) -> None:
    s3_store.create_bucket_if_missing()
    assert s3_store.put(io.BytesIO(b"ok")).size == 2


# --- store_from_url ----------------------------------------------------------


def test_url_file(tmp_path: Path) -> None:
    store = store_from_url(f"file://{tmp_path}/media")
    assert isinstance(store, LocalMediaStore)
    assert store.root == tmp_path / "media"


def test_url_plain_path(tmp_path: Path) -> None:
    store = store_from_url(str(tmp_path / "plain"))
    assert isinstance(store, LocalMediaStore)
    assert store.root == tmp_path / "plain"


def test_url_memory() -> None:
    assert isinstance(store_from_url("memory://"), MemoryMediaStore)


def test_url_s3_against_real_server(s3_endpoint: str) -> None:
    store = store_from_url("s3://media-from-url/forms/2024", **s3_options(s3_endpoint))
    assert isinstance(store, S3MediaStore)
    assert (store.bucket, store.prefix) == ("media-from-url", "forms/2024")
    store.create_bucket_if_missing()
    stored = store.put(io.BytesIO(b"<xml/>"))
    assert store.open(stored.key).read() == b"<xml/>"
    head = store.client.head_object(Bucket="media-from-url", Key=f"forms/2024/{stored.key}")
    assert head["ContentLength"] == 6


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://", "file://otherhost/x"])
def test_url_unsupported(url: str) -> None:
    with pytest.raises(ValueError):
        store_from_url(url)

"""The MediaStore contract, run against the memory, local and S3 stores."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from media import (
    CHUNK_SIZE,
    InvalidMediaKey,
    LocalMediaStore,
    MediaNotFound,
    MediaStore,
    MemoryMediaStore,
    S3MediaStore,
    StoredMedia,
    cached_thumbnail,
)
from tests.support.collect import jpeg_bytes

UNKNOWN_KEY = "0" * 64
INVALID_KEYS = [
    "../etc/passwd",
    "../" * 21 + "a",
    "A" * 64,
    hashlib.sha256(b"x").hexdigest().upper(),
    "a" * 63,
    "a" * 65,
    "g" * 64,
    "",
    "a" * 64 + "\n",
    "ab/" + "a" * 61,
]


class GeneratedStream(io.RawIOBase):
    """A read-only stream fed by an iterator of chunks; records the sizes asked for."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""
        self.requested_sizes: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.requested_sizes.append(size)
        return super().read(size)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def pseudo_random_chunks(total: int, seed: int = 7, chunk: int = 100_000) -> Iterator[bytes]:
    rng = random.Random(seed)
    for start in range(0, total, chunk):
        yield rng.randbytes(min(chunk, total - start))


def read_all(store: MediaStore, key: str) -> bytes:
    with store.open(key) as stream:
        return stream.read()


def stored_object_count(store: MediaStore) -> int:
    if isinstance(store, MemoryMediaStore):
        return len(store.objects) + len(store.derived)
    if isinstance(store, LocalMediaStore):
        files = (p for p in store.root.rglob("*") if p.is_file())
        return sum(1 for p in files if p.relative_to(store.root).parts[0] != "tmp")
    if isinstance(store, S3MediaStore):
        return store.client.list_objects_v2(Bucket=store.bucket)["KeyCount"]
    raise TypeError(store)


def test_implements_protocol(store: MediaStore) -> None:
    assert isinstance(store, MediaStore)


def test_put_then_open_roundtrip(store: MediaStore) -> None:
    content = b"<data>\xe6\x89\xb6\xe8\xb4\xab</data>"
    stored = store.put(io.BytesIO(content))
    assert stored == StoredMedia(hashlib.sha256(content).hexdigest(), len(content))
    assert read_all(store, stored.key) == content
    assert store.exists(stored.key)
    assert store.size(stored.key) == len(content)


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]
)
def test_sizes_around_chunk_boundaries(store: MediaStore, size: int) -> None:
    content = random.Random(size).randbytes(size)
    stored = store.put(io.BytesIO(content))
    assert stored.key == hashlib.sha256(content).hexdigest()
    assert stored.size == store.size(stored.key) == size
    assert read_all(store, stored.key) == content


def test_same_content_twice_is_one_object(store: MediaStore) -> None:
    first = store.put(io.BytesIO(b"same bytes"))
    second = store.put(io.BytesIO(b"same bytes"))
    assert first == second
    assert stored_object_count(store) == 1
    assert read_all(store, first.key) == b"same bytes"


def test_different_content_different_keys(store: MediaStore) -> None:
    keys = {store.put(io.BytesIO(bytes([n]))).key for n in range(3)}
    assert len(keys) == 3
    assert stored_object_count(store) == 3


def test_unknown_key(store: MediaStore) -> None:
    assert not store.exists(UNKNOWN_KEY)
    with pytest.raises(MediaNotFound) as caught:
        store.open(UNKNOWN_KEY)
    assert caught.value.key == UNKNOWN_KEY
    with pytest.raises(MediaNotFound):
        store.size(UNKNOWN_KEY)


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_refused(store: MediaStore, key: str) -> None:
    with pytest.raises(InvalidMediaKey):
        store.open(key)
    with pytest.raises(InvalidMediaKey):
        store.exists(key)
    with pytest.raises(InvalidMediaKey):
        store.size(key)


def test_twenty_megabytes_streamed_in_chunks(store: MediaStore) -> None:
    total = 20 * 1024 * 1024
    expected = hashlib.sha256()
    for chunk in pseudo_random_chunks(total):
        expected.update(chunk)

    source = GeneratedStream(pseudo_random_chunks(total))
    stored = store.put(source)  # type: ignore[arg-type]

    assert stored == StoredMedia(expected.hexdigest(), total)
    assert set(source.requested_sizes) == {CHUNK_SIZE}
    assert store.size(stored.key) == total
    actual = hashlib.sha256()
    with store.open(stored.key) as stream:
        while chunk := stream.read(CHUNK_SIZE):
            actual.update(chunk)
    assert actual.hexdigest() == stored.key


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(content=st.binary(max_size=5000))
def test_roundtrip_property(store: MediaStore, content: bytes) -> None:
    # Reusing one store across examples is sound: it is content-addressed.
    stored = store.put(io.BytesIO(content))
    assert stored.key == hashlib.sha256(content).hexdigest()
    assert stored.size == len(content)
    assert read_all(store, stored.key) == content


def test_a_derived_object_is_kept_beside_its_source(store: MediaStore) -> None:
    """A thumbnail is kept under its source's key and a name; a second one of that name
    replaces it; another name or another source has none."""
    source = store.put(io.BytesIO(b"photo")).key
    other = store.put(io.BytesIO(b"other photo")).key

    store.put_derived(source, "thumbnail-320", b"small")
    store.put_derived(source, "thumbnail-320", b"smaller")

    with store.open_derived(source, "thumbnail-320") as stream:
        assert stream.read() == b"smaller"
    for key, name in ((source, "thumbnail-64"), (other, "thumbnail-320"),
                      (UNKNOWN_KEY, "thumbnail-320")):
        with pytest.raises(MediaNotFound):
            store.open_derived(key, name)
    assert read_all(store, source) == b"photo"  # the source is untouched


@pytest.mark.parametrize("name", ["", "../x", "Thumb", "a/b", "x" * 33, "-x"])
def test_invalid_derived_names_are_refused(store: MediaStore, name: str) -> None:
    source = store.put(io.BytesIO(b"photo")).key
    with pytest.raises(InvalidMediaKey):
        store.put_derived(source, name, b"x")
    with pytest.raises(InvalidMediaKey):
        store.open_derived(source, name)
    with pytest.raises(InvalidMediaKey):
        store.put_derived("../" + source[3:], "thumbnail-320", b"x")


def test_a_thumbnail_is_made_once_and_then_read_from_the_store(store: MediaStore) -> None:
    """Issue 13: photos as thumbnails made once with Pillow and cached in the media store; the
    second call reads the kept one (here replaced by a marker) and decodes nothing."""
    source = store.put(io.BytesIO(jpeg_bytes((900, 600)))).key

    first = cached_thumbnail(store, source, 100)
    objects = stored_object_count(store)
    store.put_derived(source, "thumbnail-100", b"kept")
    second = cached_thumbnail(store, source, 100)

    assert first[:2] == b"\xff\xd8" and objects == 2  # a JPEG, kept beside its source
    assert second == b"kept"
    assert stored_object_count(store) == objects


def test_iter_keys_lists_every_stored_key_once_and_nothing_derived(store: MediaStore) -> None:
    """Issue 15 (backup and restore): a store lists what it holds, so a restore can tell an
    empty store and ``verify-media`` can count the objects nothing references; derived objects
    (thumbnails) and unfinished puts are not media."""
    assert list(store.iter_keys()) == []
    contents = [b"photo", b"signature", b"", bytes(range(256)) * 300]
    keys = {store.put(io.BytesIO(content)).key for content in contents}
    store.put(io.BytesIO(b"photo"))
    first = next(iter(keys))
    store.put_derived(first, "thumbnail-320", b"small")

    listed = list(store.iter_keys())
    assert sorted(listed) == sorted(keys)
    if isinstance(store, LocalMediaStore):  # an unfinished put is no object
        (store.root / "tmp" / "put-unfinished").write_bytes(b"half")
        assert sorted(store.iter_keys()) == sorted(keys)


def test_iter_keys_pages_through_a_large_s3_listing(s3_store: S3MediaStore) -> None:
    """S3 lists at most 1000 objects a request: the store follows the pages, and keeps to its
    prefix."""
    prefixed = S3MediaStore(s3_store.bucket, prefix="county/media", client=s3_store.client)
    keys = {prefixed.put(io.BytesIO(str(n).encode())).key for n in range(1005)}
    s3_store.put(io.BytesIO(b"outside the prefix"))
    assert sorted(prefixed.iter_keys()) == sorted(keys)
    assert len(list(s3_store.iter_keys())) == 1

"""Media on the local filesystem, laid out as root/ab/cd/<sha256>; what is derived from an
object (its thumbnail) as root/derived/ab/cd/<sha256>/<name>."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

from media.store import (
    MediaNotFound,
    MediaStoreUnavailable,
    StoredMedia,
    copy_and_hash,
    is_key,
    store_error,
    validate_derived_name,
    validate_key,
)


class LocalMediaStore:
    """Content-addressed files under `root`; puts are atomic via a temp file and os.replace."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalMediaStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Where the content for `key` lives (whether or not it exists)."""
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, stream: BinaryIO) -> StoredMedia:
        with _writing():
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                # an error reading ``stream`` (the client went away) is the caller's; one
                # writing the disk is the store's (``MediaStoreFull`` when it is full)
                stored = copy_and_hash(stream, cast(BinaryIO, _DiskFile(tmp)))
                with _writing():
                    tmp.flush()
                    os.fsync(tmp.fileno())
            target = self.path(stored.key)
            if target.exists():
                os.unlink(tmp_name)
            else:
                with _writing():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    # Concurrent puts of the same content replace identical bytes: harmless.
                    os.replace(tmp_name, target)
                _fsync_dir(target.parent)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return stored

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise MediaNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise MediaNotFound(key) from None

    def derived_path(self, key: str, name: str) -> Path:
        """Where the object derived from ``key`` under ``name`` lives."""
        validate_key(key)
        validate_derived_name(name)
        return self.root / "derived" / key[:2] / key[2:4] / key / name

    def put_derived(self, key: str, name: str, content: bytes) -> None:
        target = self.derived_path(key, name)
        with _writing():
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="derived-")
        try:
            with _writing():
                with os.fdopen(fd, "wb") as tmp:
                    tmp.write(content)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, target)  # atomic: a reader sees the old or the new, whole
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def open_derived(self, key: str, name: str) -> BinaryIO:
        try:
            return open(self.derived_path(key, name), "rb")
        except FileNotFoundError:
            raise MediaNotFound(key) from None

    def iter_keys(self) -> Iterator[str]:
        # root/ab/cd/<key>: only two-hex-digit folders hold content (not tmp/ nor derived/)
        for first in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for second in sorted(first.glob("[0-9a-f][0-9a-f]")):
                for path in second.iterdir():
                    name = path.name
                    if is_key(name) and name[:2] == first.name and name[2:4] == second.name \
                            and path.is_file():
                        yield name

    def check(self) -> None:
        if not (self._tmp.is_dir() and os.access(self._tmp, os.W_OK | os.X_OK)):
            raise MediaStoreUnavailable(f"媒体存储目录不可写：{self._tmp}")


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """The disk's errors while writing as the store's (``MediaStoreFull`` when it is full)."""
    try:
        yield
    except OSError as error:
        raise store_error(error) from error


class _DiskFile:
    """A file being written whose write errors are the store's."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def write(self, data: bytes) -> int:
        with _writing():
            return self._file.write(data)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; skipped where directories cannot be fsynced."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Media on the local filesystem, laid out as root/ab/cd/<sha256>; what is derived from an
object (its thumbnail) as root/derived/ab/cd/<sha256>/<name>."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from media.store import (
    MediaNotFound,
    StoredMedia,
    copy_and_hash,
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
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                stored = copy_and_hash(stream, tmp)
                tmp.flush()
                os.fsync(tmp.fileno())
            target = self.path(stored.key)
            if target.exists():
                os.unlink(tmp_name)
            else:
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
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="derived-")
        try:
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


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; skipped where directories cannot be fsynced."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

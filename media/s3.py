"""Media in an S3-compatible bucket, stored as <prefix>/<sha256>; what is derived from an
object (its thumbnail) as <prefix>/derived/<sha256>/<name>."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from media.store import (
    MediaNotFound,
    MediaStoreUnavailable,
    StoredMedia,
    copy_and_hash,
    is_key,
    validate_derived_name,
    validate_key,
)

# Sequential 8 MiB parts: memory stays bounded whatever the upload size.
TRANSFER_CONFIG = TransferConfig(
    use_threads=False,
    multipart_threshold=8 * 1024 * 1024,
    multipart_chunksize=8 * 1024 * 1024,
)
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}

# A server that does not answer is given up on in seconds, not minutes (boto3's default connect
# timeout is 60 s, tried five times): the phone hears 503 and sends again later.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30,
                       retries={"max_attempts": 3, "mode": "standard"})


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """Turn the S3 server's absence (no connection, a timeout, a 5xx after the retries) into
    ``MediaStoreUnavailable``; its refusals (4xx) stay ``ClientError``."""
    try:
        yield
    except BotoCoreError as error:
        raise MediaStoreUnavailable(f"S3 服务器无法连接：{error}") from error
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if int(status) >= 500:
            raise MediaStoreUnavailable(f"S3 服务器出错：{error}") from error
        raise


class S3MediaStore:
    """Content-addressed objects in `bucket`, under an optional `prefix`."""

    def __init__(
        self, bucket: str, prefix: str = "", client: Any = None, **boto_kwargs: Any
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        boto_kwargs.setdefault("config", CLIENT_CONFIG)
        self.client = client if client is not None else boto3.client("s3", **boto_kwargs)

    def __repr__(self) -> str:
        return f"S3MediaStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        """The S3 object key for a media key."""
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, stream: BinaryIO) -> StoredMedia:
        # The key is only known once everything is hashed, so spool to disk first.
        with tempfile.TemporaryFile() as spool:
            stored = copy_and_hash(stream, cast(BinaryIO, spool))
            object_key = self.object_key(stored.key)
            if self._head(object_key) is None:
                spool.seek(0)
                with _reachable():  # an upload that fails leaves no object (S3 puts are whole)
                    self.client.upload_fileobj(spool, self.bucket, object_key,
                                               Config=TRANSFER_CONFIG)
        return stored

    def open(self, key: str) -> BinaryIO:
        try:
            with _reachable():
                response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as error:
            if _is_missing(error):
                raise MediaNotFound(key) from None
            raise
        return cast(BinaryIO, _BodyReader(response["Body"]))

    def exists(self, key: str) -> bool:
        return self._head(self.object_key(key)) is not None

    def size(self, key: str) -> int:
        head = self._head(self.object_key(key))
        if head is None:
            raise MediaNotFound(key)
        return int(head["ContentLength"])

    def derived_object_key(self, key: str, name: str) -> str:
        """The S3 object key of what is derived from ``key`` under ``name``."""
        validate_key(key)
        validate_derived_name(name)
        path = f"derived/{key}/{name}"
        return f"{self.prefix}/{path}" if self.prefix else path

    def put_derived(self, key: str, name: str, content: bytes) -> None:
        with _reachable():
            self.client.put_object(Bucket=self.bucket, Key=self.derived_object_key(key, name),
                                   Body=content)

    def open_derived(self, key: str, name: str) -> BinaryIO:
        try:
            with _reachable():
                response = self.client.get_object(Bucket=self.bucket,
                                                  Key=self.derived_object_key(key, name))
        except ClientError as error:
            if _is_missing(error):
                raise MediaNotFound(key) from None
            raise
        return cast(BinaryIO, _BodyReader(response["Body"]))

    def iter_keys(self) -> Iterator[str]:
        # <prefix>/<key>: one level only, so derived/<key>/<name> is not listed
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start, Delimiter="/")
        with _reachable():
            for page in pages:
                for item in page.get("Contents", ()):
                    name = item["Key"][len(start):]
                    if is_key(name):
                        yield name

    def check(self) -> None:
        try:
            with _reachable():
                self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:  # no such bucket, or no right to it
            raise MediaStoreUnavailable(f"S3 存储桶不可用：{error}") from error

    def create_bucket_if_missing(self) -> None:
        """Create the bucket unless it already exists (tests and demo setup)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if not _is_missing(error):
                raise
        region = self.client.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise

    def _head(self, object_key: str) -> dict[str, Any] | None:
        try:
            with _reachable():
                return cast(dict[str, Any],
                            self.client.head_object(Bucket=self.bucket, Key=object_key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING_CODES


class _BodyReader(io.RawIOBase):
    """A plain binary reader over botocore's StreamingBody."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()

"""A media store built from a URL: the one module that knows every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from media.local import LocalMediaStore
from media.memory import MemoryMediaStore
from media.s3 import S3MediaStore
from media.store import MediaStore


def store_from_url(url: str, **s3_options: Any) -> MediaStore:
    """Build a store from `file:///path`, a plain path, `s3://bucket/prefix` or `memory://`.

    `s3_options` (endpoint_url, region_name, aws_access_key_id, aws_secret_access_key, ...)
    go to boto3 unchanged; boto3 also reads its usual environment variables.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return MemoryMediaStore()
    if scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"S3 地址缺少存储桶名称：{url}")
        return S3MediaStore(parts.netloc, prefix=unquote(parts.path), **s3_options)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"不支持远程文件地址：{url}")
        return LocalMediaStore(Path(unquote(parts.path)))
    if scheme == "":
        return LocalMediaStore(Path(url))
    raise ValueError(f"不支持的存储地址：{url}")


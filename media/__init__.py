"""Content-addressed storage for uploaded photos, signatures and raw XML."""

from media.factory import store_from_url
from media.images import DEFAULT_MAX_PIXELS, ImageInfo, NotAnImage, thumbnail, verify_image
from media.local import LocalMediaStore
from media.memory import MemoryMediaStore
from media.s3 import S3MediaStore
from media.store import (
    CHUNK_SIZE,
    InvalidMediaKey,
    MediaNotFound,
    MediaStore,
    MediaStoreFull,
    MediaStoreUnavailable,
    StoredMedia,
    validate_derived_name,
    validate_key,
)
from media.thumbnails import THUMBNAIL_SIDE, cached_thumbnail

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_MAX_PIXELS",
    "ImageInfo",
    "InvalidMediaKey",
    "LocalMediaStore",
    "MediaNotFound",
    "MediaStore",
    "MediaStoreFull",
    "MediaStoreUnavailable",
    "MemoryMediaStore",
    "NotAnImage",
    "S3MediaStore",
    "StoredMedia",
    "THUMBNAIL_SIDE",
    "cached_thumbnail",
    "store_from_url",
    "thumbnail",
    "validate_derived_name",
    "validate_key",
    "verify_image",
]

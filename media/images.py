"""Pillow checks and thumbnails for uploaded photos and signatures."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps

DEFAULT_MAX_PIXELS = 50_000_000
# Pillow's JPEG opener also yields "MPO": a JPEG with extra frames, as some phones write.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Why an upload is not an acceptable image: codes of the server's catalogue
# (server.domain.catalogue), which words them for users; this package names them only.
IMAGE_INVALID = "IMAGE_INVALID"  # not a whole, decodable JPEG/PNG/WebP/GIF
IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"  # more pixels than allowed (params: limit, width, height)


class NotAnImage(ValueError):
    """The upload is not an acceptable image: ``code`` says why, ``params`` the values."""

    def __init__(self, code: str, **params: object):
        super().__init__(code, params)
        self.code, self.params = code, params


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


def verify_image(stream: BinaryIO, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Check that a seekable stream holds a whole, decodable, not too large image.

    The stream is left at the position it had on entry.
    """
    start = stream.tell()
    try:
        with _as_not_an_image(max_pixels):
            with Image.open(stream, formats=ACCEPTED_FORMATS) as image:
                _check_pixels(image, max_pixels)
                info = ImageInfo(_format_name(image), image.width, image.height)
                image.verify()  # PNG: every chunk's CRC, to IEND, without decompressing.
            if info.format != "PNG":
                # Others have no checksums: decode to catch truncation. JPEG (what phones
                # send) decodes at 1/8 scale, so memory stays small even for a 50 MB photo;
                # PNG is not decoded because a large one would cost 4 bytes per pixel.
                stream.seek(start)
                with Image.open(stream, formats=ACCEPTED_FORMATS) as image:
                    image.draft(None, (max(1, image.width // 8), max(1, image.height // 8)))
                    image.load()
    finally:
        stream.seek(start)
    return info


def thumbnail(
    stream: BinaryIO, max_side: int = 320, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> bytes:
    """A JPEG no larger than max_side on either side, upright per its EXIF orientation."""
    with _as_not_an_image(max_pixels), Image.open(stream, formats=ACCEPTED_FORMATS) as image:
        _check_pixels(image, max_pixels)
        image.draft("RGB", (max_side, max_side))
        small = _on_white(ImageOps.exif_transpose(image))
        small.thumbnail((max_side, max_side))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


@contextmanager
def _as_not_an_image(max_pixels: int) -> Iterator[None]:
    """Turn whatever Pillow raises on bad input, bomb warnings included, into NotAnImage."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except NotAnImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise NotAnImage(IMAGE_TOO_LARGE, limit=max_pixels) from error
    except Exception as error:  # Malformed files raise many kinds of errors.
        raise NotAnImage(IMAGE_INVALID) from error


def _check_pixels(image: Image.Image, max_pixels: int) -> None:
    if image.width * image.height > max_pixels:
        raise NotAnImage(IMAGE_TOO_LARGE, limit=max_pixels, width=image.width,
                         height=image.height)


def _format_name(image: Image.Image) -> str:
    return "JPEG" if image.format == "MPO" else str(image.format)


def _on_white(image: Image.Image) -> Image.Image:
    """RGB copy with any transparency flattened onto white (signatures are often RGBA)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")

"""Image checks and thumbnails."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from media import ImageInfo, NotAnImage, thumbnail, verify_image
from media.images import IMAGE_INVALID, IMAGE_TOO_LARGE

ORIENTATION = 0x0112


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save) -> bytes:
    image = Image.new(mode, size, "red" if mode != "L" else 128)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def noisy_jpeg(size: tuple[int, int] = (256, 256)) -> bytes:
    noise = Image.frombytes("RGB", size, random.Random(1).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=90)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A 1x1 PNG whose IHDR claims another size (CRC fixed up)."""
    data = bytearray(image_bytes("PNG", (1, 1)))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_valid_images_pass(fmt: str) -> None:
    assert verify_image(io.BytesIO(image_bytes(fmt))) == ImageInfo(fmt, 64, 48)


def test_signature_png_with_alpha_passes() -> None:
    info = verify_image(io.BytesIO(image_bytes("PNG", (300, 120), mode="RGBA")))
    assert (info.width, info.height) == (300, 120)


def test_stream_is_rewound_for_the_caller() -> None:
    content = image_bytes("JPEG")
    stream = io.BytesIO(content)
    assert verify_image(stream).format == "JPEG"
    assert stream.read() == content


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(random.Random(3).randbytes(4096), id="random-bytes"),
        pytest.param("调查表 survey notes\n".encode() * 20, id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(noisy_jpeg()[: len(noisy_jpeg()) // 2], id="truncated-jpeg"),
        pytest.param(image_bytes("PNG")[:-20], id="truncated-png"),
        pytest.param(image_bytes("BMP"), id="bmp-not-accepted"),
        pytest.param(image_bytes("TIFF"), id="tiff-not-accepted"),
    ],
)
def test_non_images_fail(content: bytes) -> None:
    with pytest.raises(NotAnImage) as caught:
        verify_image(io.BytesIO(content))
    assert caught.value.code == IMAGE_INVALID


def test_png_with_bad_checksum_fails() -> None:
    data = bytearray(image_bytes("PNG", (32, 32)))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # corrupt the compressed pixels, keep the CRC
    with pytest.raises(NotAnImage):
        verify_image(io.BytesIO(bytes(data)))


def test_html_named_jpg_fails(tmp_path: Path) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_text("<!DOCTYPE html><html><body>不是图片</body></html>", encoding="utf-8")
    with fake.open("rb") as stream, pytest.raises(NotAnImage) as caught:
        verify_image(stream)
    assert caught.value.code == IMAGE_INVALID


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8000, 8000),  # over our 50 MP limit, under Pillow's own warning threshold
        (10000, 10000),  # Pillow's DecompressionBombWarning range
        (100_000, 100_000),  # Pillow's DecompressionBombError range
    ],
)
def test_decompression_bomb_fails(width: int, height: int) -> None:
    with pytest.raises(NotAnImage) as caught:
        verify_image(io.BytesIO(png_declaring(width, height)))
    assert caught.value.code == IMAGE_TOO_LARGE


def test_pixel_limit_parameter() -> None:
    content = image_bytes("PNG", (100, 100))
    assert verify_image(io.BytesIO(content), max_pixels=10_000).width == 100
    with pytest.raises(NotAnImage) as caught:
        verify_image(io.BytesIO(content), max_pixels=9_999)
    assert caught.value.code == IMAGE_TOO_LARGE
    assert caught.value.params == {"limit": 9_999, "width": 100, "height": 100}


def test_bomb_warning_is_refused_even_above_our_limit() -> None:
    with pytest.raises(NotAnImage) as caught:
        verify_image(io.BytesIO(png_declaring(10000, 10000)), max_pixels=10**12)
    assert caught.value.code == IMAGE_TOO_LARGE


def test_thumbnail_is_a_small_jpeg() -> None:
    result = Image.open(io.BytesIO(thumbnail(io.BytesIO(image_bytes("PNG", (1000, 500))))))
    assert (result.format, result.size) == ("JPEG", (320, 160))


def test_thumbnail_never_enlarges() -> None:
    result = Image.open(io.BytesIO(thumbnail(io.BytesIO(image_bytes("JPEG", (40, 30))))))
    assert result.size == (40, 30)


def test_thumbnail_applies_exif_orientation() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    rotated = image_bytes("JPEG", (400, 200), exif=exif)
    result = Image.open(io.BytesIO(thumbnail(io.BytesIO(rotated), max_side=100)))
    assert result.size == (50, 100)


def test_thumbnail_puts_transparency_on_white() -> None:
    signature = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    signature.paste((0, 0, 0, 255), (90, 40, 110, 60))
    out = io.BytesIO()
    signature.save(out, "PNG")
    result = Image.open(io.BytesIO(thumbnail(out))).convert("RGB")
    corner = result.getpixel((0, 0))
    centre = result.getpixel((result.width // 2, result.height // 2))
    assert isinstance(corner, tuple) and min(corner) > 240
    assert isinstance(centre, tuple) and max(centre) < 40


def test_thumbnail_of_non_image_fails() -> None:
    with pytest.raises(NotAnImage):
        thumbnail(io.BytesIO(b"<html></html>"))


def test_a_truncated_photo_is_refused_even_after_the_printing_engine_is_loaded() -> None:
    """WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported; the server
    (which imports it to print) must still refuse a truncated upload."""
    import server.printing.render  # noqa: F401  (the import that once flipped the flag)

    with pytest.raises(NotAnImage):
        verify_image(io.BytesIO(noisy_jpeg()[: len(noisy_jpeg()) // 2]))

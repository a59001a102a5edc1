"""media.uploads: a device's file part read with a cap (issue 15.5)."""

from __future__ import annotations

import io

import pytest

from media.store import CHUNK_SIZE
from media.uploads import read_capped


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, 3 * CHUNK_SIZE + 5])
def test_a_part_within_the_cap_is_read_whole(size):
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)

    assert read_capped(io.BytesIO(content), 3 * CHUNK_SIZE + 5) == (content, size)


class CountingStream(io.BytesIO):
    """Records the largest read asked for."""

    largest = 0

    def read(self, size=-1):
        self.largest = max(self.largest, size if size is not None and size >= 0 else 1 << 62)
        return super().read(size)


def test_a_part_over_the_cap_keeps_its_first_bytes_and_counts_the_rest_in_chunks():
    """Never a read of the whole part: the rest is counted chunk by chunk."""
    content = b"a" * 100 + b"b" * (10 * CHUNK_SIZE)
    stream = CountingStream(content)

    head, size = read_capped(stream, 100)

    assert (head, size) == (b"a" * 100, len(content))
    assert stream.largest <= CHUNK_SIZE

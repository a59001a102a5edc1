"""A backup copies every media object the database references (issue 15.11): the columns it
reads them from are all the columns of the models that can hold one."""

from __future__ import annotations

from server.backup import MEDIA_KEY_COLUMNS, MEDIA_KEY_LISTS, NOT_MEDIA_KEYS, _keys_in
from server.db import Base
from server.models import load_all


def test_every_column_that_may_hold_a_media_key_is_backed_up_or_named_as_no_media():
    load_all()
    backed_up = {(table, column) for table, column, _ in MEDIA_KEY_COLUMNS}
    looks_like_one = set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            to_media = any(fk.column.table.name == "media_objects" for fk in column.foreign_keys)
            if to_media or column.name.endswith(("sha256", "key")):
                looks_like_one.add((table.name, column.name))
    assert looks_like_one - NOT_MEDIA_KEYS == backed_up
    columns = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns}
    assert set(MEDIA_KEY_LISTS) | NOT_MEDIA_KEYS <= columns


def test_the_keys_of_a_signature_or_attachment_list_are_read_in_each_stored_shape():
    key, other = "a" * 64, "b" * 64
    assert list(_keys_in([key, {"key": other, "signer": None}])) == [key, other]
    assert list(_keys_in(f'[{{"key": "{key}", "name": "公示.jpg"}}]')) == [key]
    assert list(_keys_in(None)) == [] and list(_keys_in(["../etc/passwd", {"key": 3}])) == []

"""The shared ``sort`` query argument of the REST API (server.rest.Sort)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from server.rest import Sort, SortKey

KEYS = ("updated_at", "area_code", "size")


class Args(Schema):
    sort = Sort(*KEYS, default="-updated_at")


def test_no_sort_means_the_default():
    assert Args().load({})["sort"] == (SortKey("updated_at", descending=True),)


def test_keys_load_in_order_with_their_direction():
    assert Args().load({"sort": "-size,area_code"})["sort"] == (
        SortKey("size", True), SortKey("area_code", False))


@given(st.permutations(KEYS).flatmap(lambda keys: st.tuples(
    st.just(keys), st.lists(st.booleans(), min_size=3, max_size=3))),
    st.integers(min_value=1, max_value=3))
def test_any_allowed_keys_load_as_written(keys_and_signs, count):
    keys, signs = keys_and_signs
    text = ",".join(("-" if sign else "") + key for key, sign in zip(keys, signs, strict=True))
    chosen = ",".join(text.split(",")[:count])

    loaded = Args().load({"sort": chosen})["sort"]

    assert loaded == tuple(SortKey(k, s) for k, s in zip(keys, signs, strict=True))[:count]


@given(st.text(max_size=30).filter(lambda t: t.removeprefix("-").strip() not in KEYS
                                   and "," not in t))
def test_anything_else_is_refused_naming_the_allowed_keys(text):
    with pytest.raises(ValidationError) as refused:
        Args().load({"sort": text})

    assert "area_code" in str(refused.value.messages["sort"])


@pytest.mark.parametrize("text", ["size,size", "size,-size", "size,", ",size", "size,,area_code"])
def test_repeated_and_empty_keys_are_refused(text):
    with pytest.raises(ValidationError):
        Args().load({"sort": text})

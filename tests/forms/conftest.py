"""Fixtures of the form tests: each module names its XLSForm in ``FORM``, built once a module."""

from __future__ import annotations

import pytest
from lxml import etree

from server.forms.build import BuiltForm, build_xform


@pytest.fixture(scope="module")
def form(request: pytest.FixtureRequest) -> BuiltForm:
    """The module's ``FORM`` converted by pyxform and loaded in JavaRosa (ODK Validate)."""
    return build_xform(request.module.FORM, validate=True)


@pytest.fixture(scope="module")
def doc(form: BuiltForm) -> etree._Element:
    return etree.fromstring(form.xml)

"""server.domain.figures: yearly figures are data, looked up by province and year (SPEC §3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.figures import FigureKind, FigureMissing, YearlyFigure, figure_for

LINE = FigureKind.MONITORING_LINE
FIGURES = [
    YearlyFigure("43", 2021, LINE, Decimal("6500"), "湘委乡振组发〔2021〕1号"),
    YearlyFigure("43", 2023, LINE, Decimal("7000"), "假设的 2023 文件"),
    YearlyFigure("45", 2021, LINE, Decimal("6000"), "another province"),
]


def test_a_year_with_its_own_figure_uses_it():
    found = figure_for(FIGURES, "43", 2021, LINE)

    assert (found.value, found.year_used) == (Decimal("6500"), 2021)


def test_a_year_without_a_figure_uses_the_latest_earlier_one_and_says_so():
    found = figure_for(FIGURES, "43", 2022, LINE)

    assert (found.value, found.year_used) == (Decimal("6500"), 2021)


def test_provinces_do_not_share_figures():
    assert figure_for(FIGURES, "45", 2030, LINE).value == Decimal("6000")


def test_no_earlier_figure_is_an_error_that_names_what_is_missing():
    with pytest.raises(FigureMissing) as error:
        figure_for(FIGURES, "43", 2020, LINE)
    assert error.value.code == "FIGURE_MISSING" and error.value.kind is LINE
    assert (error.value.params["year"], error.value.params["province"]) == (2020, "43")


@given(st.integers(min_value=2021, max_value=2100))
def test_the_figure_used_is_never_from_a_later_year(year):
    found = figure_for(FIGURES, "43", year, LINE)

    assert found.year_used <= year
    assert found.year_used == max(f.year for f in FIGURES if f.province == "43" and f.year <= year)

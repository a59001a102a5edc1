"""Plain SQLAlchemy helpers the read services build their lists with: sort keys and the ORDER BY
they make, equality and area filters over a mapping of filters.

The read services (``households_query(user, filters)`` and the like, in each feature's
``queries`` module) take a plain mapping of filters — the REST API passes its loaded query
arguments, the console and the exports the same keys — and return a ``Select``; the caller pages
or streams it. A filter applies when its key is present (the REST API's loaded arguments hold
only the ones given); ``sort`` is a sequence of ``SortKey``, each service has its default.
Nothing here knows Flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy.sql import ColumnElement

from server.auth import within


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool = False


def sorted_by(query: Select, sort: Sequence[SortKey], columns: Mapping[str, ColumnElement],
              *tiebreak: ColumnElement) -> Select:
    """``query`` ordered by the ``sort`` keys (``columns`` maps each allowed key to its
    column), then by ``tiebreak`` (a unique column, so pages are stable).

    Empty values of a nullable column sort last either way, on SQLite as on PostgreSQL; a NOT
    NULL column is ordered plainly, so that PostgreSQL can walk its index either way."""
    order = []
    for key in sort:
        column = columns[key.name]
        term = column.desc() if key.descending else column.asc()
        order.append(term.nulls_last() if _nullable(column) else term)
    return query.order_by(*order, *tiebreak)


def _nullable(column) -> bool:
    return getattr(getattr(column, "expression", column), "nullable", True)


def where_equal(query: Select, filters: Mapping, model, *names: str) -> Select:
    """``query`` narrowed to rows whose column equals each of ``names`` given in ``filters``."""
    for name in names:
        if name in filters:
            query = query.where(getattr(model, name) == filters[name])
    return query


def where_in_area(query: Select, filters: Mapping, column) -> Select:
    """``query`` narrowed to rows whose area ``column`` lies in ``filters["area_code"]``, if
    given (the user's own area scope is ``server.auth.within``)."""
    if "area_code" in filters:
        query = query.where(within(filters["area_code"], column))
    return query

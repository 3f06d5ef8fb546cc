"""Set-based query helpers that keep statement text independent of how many values are passed."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from .uow import UnitOfWork


def among(uow: UnitOfWork, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL it is `column = ANY(:array)`, one parameter whatever the
    number of values: psycopg parses a statement's text on every execution unless it has seen it
    before, and an IN list of a few hundred placeholders makes each statement new and slow to parse."""
    if uow.dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))

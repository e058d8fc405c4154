"""Long lists one page at a time: ``page_of`` reads one page of a query, ``requested_page``
reads ``?page=N``, and the ``pager`` macro in ``_pager.html`` links the pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a long list: its rows, which page it is, and how many rows in all."""

    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_of(
    session: Session,
    statement: Select[Any],
    *,
    page: int,
    per_page: int,
    options: tuple[ORMOption, ...] = (),
) -> Page[Any]:
    """Page ``page`` of ``statement`` (which must have a total order), LIMIT/OFFSET.

    A page past the last one is the last page, and one below 1 is the first: a list that
    shrank since its link was made still shows something.
    """
    total = (
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )
    pages = max((total + per_page - 1) // per_page, 1)
    number = min(max(page, 1), pages)
    rows = session.scalars(
        statement.options(*options).limit(per_page).offset((number - 1) * per_page)
    )
    return Page(items=list(rows), number=number, per_page=per_page, total=int(total))


def requested_page() -> int:
    """The page number asked for in ``?page=``; 1 when absent or not a number."""
    return request.args.get("page", 1, type=int) or 1

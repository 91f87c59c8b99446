"""Paginators: how to ask for the first page of a list and for the page after one.

Two families cover the REST APIs we speak: page numbers with a page count in the envelope
(FreshBooks ``page``/``per_page`` and ``pages``) and cursors naming the last record seen
(Stripe ``limit``/``starting_after`` and ``has_more``). Each is a small frozen object, so a
resource table names its strategy instead of a connector branching on URL families.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from syncengine.rest.select import Select

__all__ = ["NoPagination", "PageNumbers", "Paginator", "Params", "StartingAfter"]

Params = list[tuple[str, str]]


class Paginator(Protocol):
    def first(self, page_size: int) -> Params:
        """Query parameters of the first page."""
        ...

    def following(self, body: Any, rows: Sequence[Mapping[str, Any]], params: Params, page_size: int) -> Params | None:
        """Query parameters of the page after this one (``params`` asked for it), or None at the end."""
        ...


@dataclass(frozen=True, slots=True)
class NoPagination:
    """One answer holds everything."""

    def first(self, page_size: int) -> Params:
        return []

    def following(self, body: Any, rows: Sequence[Mapping[str, Any]], params: Params, page_size: int) -> Params | None:
        return None


@dataclass(frozen=True, slots=True)
class PageNumbers:
    """``page=1,2,...`` until the envelope's page count (or an empty or short page)."""

    page_param: str = "page"
    size_param: str = "per_page"
    pages: Select = field(default_factory=lambda: Select("pages"))
    first_page: int = 1
    #: the envelope's count of records in the whole list, where it gives one.
    total: Select = field(default_factory=lambda: Select("total"))

    def first(self, page_size: int) -> Params:
        return self.page(self.first_page, page_size)

    def page(self, number: int, page_size: int) -> Params:
        """Query parameters of page ``number``: pages are addressable, so they can be read ahead."""
        return [(self.page_param, str(number)), (self.size_param, str(page_size))]

    def page_count(self, body: Any) -> int | None:
        """The envelope's page count (None when it gives none, or not as a number)."""
        return _count(self.pages(body))

    def record_count(self, body: Any) -> int | None:
        """The envelope's record total (None when it gives none): a listing shorter than it is partial."""
        return _count(self.total(body))

    def following(self, body: Any, rows: Sequence[Mapping[str, Any]], params: Params, page_size: int) -> Params | None:
        current = int(dict(params).get(self.page_param, self.first_page))
        total = self.page_count(body)
        if not rows:
            return None
        if total is not None:
            if current >= total:
                return None
        elif len(rows) < page_size:
            return None
        return self.page(current + 1, page_size)


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


@dataclass(frozen=True, slots=True)
class StartingAfter:
    """``limit=n`` then ``starting_after=<last id>`` while the envelope says ``has_more``."""

    size_param: str = "limit"
    after_param: str = "starting_after"
    has_more: Select = field(default_factory=lambda: Select("has_more"))
    key: str = "id"
    max_page_size: int = 100

    def first(self, page_size: int) -> Params:
        return [(self.size_param, str(min(page_size, self.max_page_size)))]

    def following(self, body: Any, rows: Sequence[Mapping[str, Any]], params: Params, page_size: int) -> Params | None:
        if not rows or not self.has_more(body, False):
            return None
        return [(self.size_param, str(min(page_size, self.max_page_size))), (self.after_param, str(rows[-1][self.key]))]

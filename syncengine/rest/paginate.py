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

    def first(self, page_size: int) -> Params:
        return [(self.page_param, str(self.first_page)), (self.size_param, str(page_size))]

    def following(self, body: Any, rows: Sequence[Mapping[str, Any]], params: Params, page_size: int) -> Params | None:
        current = int(dict(params).get(self.page_param, self.first_page))
        total = self.pages(body)
        if not rows:
            return None
        if total is not None:
            if current >= int(total):
                return None
        elif len(rows) < page_size:
            return None
        return [(self.page_param, str(current + 1)), (self.size_param, str(page_size))]


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

"""Change filters: the query parameters that ask a list for what changed since a watermark.

``UpdatedSince`` is the common case (FreshBooks ``updated_since``, an ISO or day-granular
text), with a look-back for clock skew; ``CreatedSince`` serves APIs that filter only by
creation (Stripe's ``created[gte]``); ``NoFilter`` means every pull is a full listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from syncengine.incremental import Watermark
from syncengine.rest.paginate import Params

__all__ = ["ChangeFilter", "CreatedSince", "NoFilter", "UpdatedSince"]


class ChangeFilter(Protocol):
    @property
    def incremental(self) -> bool:
        """Whether a filtered pull is incremental (False: every pull lists everything)."""
        ...

    def params(self, mark: Watermark | None) -> Params:
        """Query parameters for records changed at or after ``mark`` (none for a full pull)."""
        ...


@dataclass(frozen=True, slots=True)
class NoFilter:
    incremental: bool = False

    def params(self, mark: Watermark | None) -> Params:
        return []


@dataclass(frozen=True, slots=True)
class UpdatedSince:
    """``param=<watermark - overlap>`` formatted with ``strftime`` in UTC."""

    param: str = "updated_since"
    format: str = "%Y-%m-%dT%H:%M:%SZ"
    overlap: timedelta = timedelta(minutes=10)
    incremental: bool = True

    def params(self, mark: Watermark | None) -> Params:
        if mark is None:
            return []
        since = mark.lower_bound(self.overlap).astimezone(UTC)
        return [(self.param, since.strftime(self.format))]


@dataclass(frozen=True, slots=True)
class CreatedSince:
    """``created[gte]=<unix seconds>``: only new records, for APIs without an update filter."""

    param: str = "created[gte]"
    overlap: timedelta = timedelta(seconds=0)
    incremental: bool = True

    def params(self, mark: Watermark | None) -> Params:
        if mark is None:
            return []
        since: datetime = mark.lower_bound(self.overlap)
        return [(self.param, str(int(since.timestamp())))]
